// Render ZPL files to PNG with zpl-renderer-js (zebrash compiled to WASM), for the tests.
// Usage: node render.cjs WIDTH_MM HEIGHT_MM DPMM IN.zpl OUT.png [IN.zpl OUT.png ...]
// One process renders many labels: loading the WASM takes about a second.
const fs = require("node:fs");
const { ready } = require("zpl-renderer-js");

async function main() {
  const [widthMm, heightMm, dpmm, ...files] = process.argv.slice(2);
  if (files.length === 0 || files.length % 2 !== 0) {
    console.error("usage: render.cjs WIDTH_MM HEIGHT_MM DPMM IN.zpl OUT.png [...]");
    process.exit(2);
  }
  const { api } = await ready;
  for (let i = 0; i < files.length; i += 2) {
    const zpl = fs.readFileSync(files[i], "utf8");
    const png = await api.zplToBase64Async(zpl, Number(widthMm), Number(heightMm), Number(dpmm));
    fs.writeFileSync(files[i + 1], Buffer.from(png, "base64"));
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(String(err && err.stack ? err.stack : err));
    process.exit(1);
  },
);

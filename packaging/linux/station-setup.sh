# Station install settings (debconf, preseedable): checks and /etc/packbench/station.toml.
# Sourced by the .deb's preinst (checks, before anything is unpacked) and postinst (groups,
# the machine-wide file). POSIX sh. tests/packaging/test_station_setup.py runs these functions.

PB_MACHINE_CONFIG=${PB_MACHINE_CONFIG:-/etc/packbench/station.toml}
# Keep in step with app/scanning/source.py (_PARAMS), app/weighing/url.py (SERIAL_DRIVERS) and
# app/printing/printer.py (open_printer); the test compares them.
PB_SCANNER_SCHEMES="wedge serial evdev"
PB_SCALE_SCHEMES="sim hidpos manual mtsics+serial toledo+serial nci+serial cas+serial"
PB_PRINTER_SCHEMES="zpl+tcp escpos+tcp zpl+serial escpos+serial escpos+usb cups file pdf"

pb_plain() {
    # No quote, backslash, space or control character: the value goes into TOML as it is.
    case "$1" in *[\"\\[:space:][:cntrl:]]*) return 1 ;; esac
    return 0
}

pb_check_server_url() {
    pb_plain "$1" || return 1
    case "$1" in https://?*|http://?*) ;; *) return 1 ;; esac
    host=${1#*://}
    host=${host%%/*}
    host=${host%%\?*}
    case "$host" in ''|:*|*@*) return 1 ;; esac
    return 0
}

pb_check_device_url() {
    # pb_check_device_url KIND URL: KIND is scanner, scale or printer.
    pb_plain "$2" || return 1
    case "$1" in
        scanner) known=$PB_SCANNER_SCHEMES ;;
        scale) known=$PB_SCALE_SCHEMES ;;
        printer) known=$PB_PRINTER_SCHEMES ;;
        *) return 1 ;;
    esac
    case "$2" in
        *://*) scheme=${2%%://*} ;;
        *) scheme=$2 ;;
    esac
    scheme=$(printf '%s' "$scheme" | tr 'A-Z' 'a-z')
    for k in $known; do
        [ "$k" = "$scheme" ] && return 0
    done
    return 1
}

pb_check_settings() {
    # pb_check_settings USER SERVER NAME SCANNER SCALE LABEL DOCUMENT: one line on stderr and
    # status 1 at the first bad value; empty values are not set.
    if [ -n "$1" ] && ! getent passwd "$1" >/dev/null; then
        echo "packbench: station user '$1' does not exist on this machine (packbench/station-user)" >&2; return 1
    fi
    if [ -n "$2" ] && ! pb_check_server_url "$2"; then
        echo "packbench: malformed server URL '$2' (packbench/server-url): use https://HOST[:PORT]" >&2; return 1
    fi
    if [ -n "$3" ] && ! pb_plain "$3"; then
        echo "packbench: station name '$3' has a space, quote or control character (packbench/station-name)" >&2; return 1
    fi
    for pair in "scanner:$4:scanner" "scale:$5:scale" "printer:$6:label-printer" "printer:$7:document-printer"; do
        kind=${pair%%:*}
        rest=${pair#*:}
        url=${rest%:*}
        question=${rest##*:}
        if [ -n "$url" ] && ! pb_check_device_url "$kind" "$url"; then
            echo "packbench: unknown $question URL '$url' (packbench/$question)" >&2; return 1
        fi
    done
    return 0
}

pb_write_machine_config() {
    # pb_write_machine_config SERVER NAME SCANNER SCALE LABEL DOCUMENT: only the values given.
    tmp="$PB_MACHINE_CONFIG.new"
    mkdir -p "$(dirname "$PB_MACHINE_CONFIG")"
    {
        echo "# Written by the packbench package from its debconf settings"
        echo "# (dpkg-reconfigure packbench). A user's own config.toml overrides any of these."
        echo "version = 2"
        [ -z "$1" ] || echo "server_url = \"$1\""
        [ -z "$2" ] || echo "station_name = \"$2\""
        [ -z "$3" ] || echo "scanner = \"$3\""
        [ -z "$4" ] || echo "scale = \"$4\""
        [ -z "$5" ] || echo "label_printer = \"$5\""
        [ -z "$6" ] || echo "document_printer = \"$6\""
    } > "$tmp"
    chmod 0644 "$tmp"
    mv "$tmp" "$PB_MACHINE_CONFIG"
}

pb_add_device_groups() {
    # pb_add_device_groups USER: scanners and scales (dialout), printers (lp), HID (plugdev).
    for group in dialout lp plugdev; do
        getent group "$group" >/dev/null || continue
        if ! id -nG "$1" | tr ' ' '\n' | grep -qx "$group"; then
            usermod -a -G "$group" "$1"
            echo "packbench: added $1 to group $group (log out and in again to use it)"
        fi
    done
}

; Inno Setup script for the Packbench station (Windows x64). Build steps: README.md here.
; Compile from the repository root after PyInstaller has produced dist\bundle\packbench:
;   iscc /DAppVersion=0.1.0 /DBuildId=abc123 packaging\windows\packbench.iss
; With a code-signing certificate, sign the uninstaller too (Inno signs it while compiling):
;   iscc /DSignWith=signtool "/Ssigntool=signtool sign /fd SHA256 /tr http://ts.example /td SHA256 $f" ...
;
; Unattended install with the station's settings (written to the machine-wide
; %PROGRAMDATA%\Packbench\station.toml, which each user's own settings override):
;   packbench-0.1.0-windows-x64-setup.exe /VERYSILENT /SUPPRESSMSGBOXES /NORESTART
;     /SERVER=https://oms.example.com /STATIONNAME=bench-07 /SCANNER=serial://COM3
;     /SCALE=mtsics+serial://COM4 /LABELPRINTER=zpl+tcp://10.0.0.5:9100 /DOCUMENTPRINTER=pdf://
; A malformed server URL or an unknown device URL scheme stops the setup before anything is
; installed (exit code 1, the reason in the log: /LOG=setup.log); the installed version stays.
#if VER < EncodeVer(6, 3, 0)
  #error Inno Setup 6.3 or newer is needed (ArchitecturesAllowed=x64compatible)
#endif
#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif
#ifndef BuildId
  #define BuildId "unknown"
#endif
#ifndef SourceDir
  #define SourceDir "..\..\dist\bundle\packbench"
#endif

[Setup]
AppId={{6F1C2B8E-4D4A-4C57-9C3B-8A1E5D2F7B10}
AppName=Packbench
AppVersion={#AppVersion}
AppVerName=Packbench {#AppVersion} (build {#BuildId})
AppPublisher=Packbench
DefaultDirName={autopf}\Packbench
DefaultGroupName=Packbench
DisableProgramGroupPage=yes
OutputDir=..\..\dist
OutputBaseFilename=packbench-{#AppVersion}-windows-x64-setup
SetupIconFile=..\..\resources\icons\packbench.ico
UninstallDisplayIcon={app}\packbench.exe
Compression=lzma2/max
SolidCompression=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
; Per-machine install (Program Files); station data stays per user in %LOCALAPPDATA%.
PrivilegesRequired=admin
WizardStyle=modern
CloseApplications=yes
#ifdef SignWith
SignTool={#SignWith}
SignedUninstaller=yes
#endif

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"
Name: "german"; MessagesFile: "compiler:Languages\German.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"
Name: "autostart"; Description: "Start Packbench when anyone logs in to this machine"; Flags: unchecked

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\Packbench"; Filename: "{app}\packbench.exe"
; The console build of the same program (packbench-console.exe, see packbench.spec): the
; windowed packbench.exe has no console to print the self-test to.
Name: "{group}\Packbench self-test"; Filename: "{cmd}"; Parameters: "/k ""{app}\packbench-console.exe"" --self-test"
Name: "{group}\{cm:UninstallProgram,Packbench}"; Filename: "{uninstallexe}"
Name: "{autodesktop}\Packbench"; Filename: "{app}\packbench.exe"; Tasks: desktopicon
; All users' Startup folder: {userstartup} would be the profile of the admin who installs.
Name: "{commonstartup}\Packbench"; Filename: "{app}\packbench.exe"; Tasks: autostart

[Run]
Filename: "{app}\packbench.exe"; Description: "{cm:LaunchProgram,Packbench}"; Flags: nowait postinstall skipifsilent

[Code]
const
  ScannerSchemes = ' wedge serial ';
  ScaleSchemes = ' sim hidpos manual mtsics+serial toledo+serial nci+serial cas+serial ';
  PrinterSchemes = ' zpl+tcp escpos+tcp zpl+serial escpos+serial escpos+usb cups file pdf ';

function Scheme(Url: String): String;
var
  P: Integer;
begin
  P := Pos('://', Url);
  if P > 0 then
    Result := Lowercase(Copy(Url, 1, P - 1))
  else
    Result := Lowercase(Url);
end;

function Refuse(Line: String): Boolean;
begin
  Log(Line);
  SuppressibleMsgBox(Line, mbCriticalError, MB_OK, IDOK);
  Result := False;
end;

function UnknownScheme(Url, Schemes: String): Boolean;
begin
  Result := (Url <> '') and (Pos(' ' + Scheme(Url) + ' ', Schemes) = 0);
end;

// Before anything is installed: each setting given on the command line is checked the way
// the Debian package's preinst checks its debconf answers (packaging/linux/station-setup.sh).
function InitializeSetup(): Boolean;
var
  Server, Lower, Value: String;
begin
  Result := True;
  Server := ExpandConstant('{param:SERVER|}');
  Lower := Lowercase(Server);
  if (Server <> '') and ((((Pos('https://', Lower) <> 1) or (Length(Server) <= 8))
      and ((Pos('http://', Lower) <> 1) or (Length(Server) <= 7)))
      or (Pos(' ', Server) > 0) or (Pos('"', Server) > 0)) then
  begin
    Result := Refuse('packbench: malformed server URL ''' + Server + ''': give it as https://host[:port]');
    exit;
  end;
  Value := ExpandConstant('{param:STATIONNAME|}');
  if (Pos(' ', Value) > 0) or (Pos('"', Value) > 0) or (Pos('\', Value) > 0) then
  begin
    Result := Refuse('packbench: station name ''' + Value + ''' has a space, quote or backslash');
    exit;
  end;
  Value := ExpandConstant('{param:SCANNER|}');
  if UnknownScheme(Value, ScannerSchemes) then
  begin
    Result := Refuse('packbench: unknown scanner URL ''' + Value + ''' (known:' + ScannerSchemes + ')');
    exit;
  end;
  Value := ExpandConstant('{param:SCALE|}');
  if UnknownScheme(Value, ScaleSchemes) then
  begin
    Result := Refuse('packbench: unknown scale URL ''' + Value + ''' (known:' + ScaleSchemes + ')');
    exit;
  end;
  Value := ExpandConstant('{param:LABELPRINTER|}');
  if UnknownScheme(Value, PrinterSchemes) then
  begin
    Result := Refuse('packbench: unknown label-printer URL ''' + Value + ''' (known:' + PrinterSchemes + ')');
    exit;
  end;
  Value := ExpandConstant('{param:DOCUMENTPRINTER|}');
  if UnknownScheme(Value, PrinterSchemes) then
  begin
    Result := Refuse('packbench: unknown document-printer URL ''' + Value + ''' (known:' + PrinterSchemes + ')');
    exit;
  end;
end;

function TomlLine(Key, Param: String): String;
var
  Value: String;
begin
  Result := '';
  Value := ExpandConstant('{param:' + Param + '|}');
  if Value <> '' then
  begin
    StringChangeEx(Value, '\', '\\', True);  { a TOML basic string escapes backslashes }
    Result := Key + ' = "' + Value + '"' + #13#10;
  end;
end;

// After the files are in place: the machine-wide settings, only when some were given (a
// plain upgrade keeps the file an earlier install or an administrator wrote).
procedure CurStepChanged(CurStep: TSetupStep);
var
  Lines, Path: String;
begin
  if CurStep <> ssPostInstall then
    exit;
  Lines := TomlLine('server_url', 'SERVER') + TomlLine('station_name', 'STATIONNAME')
    + TomlLine('scanner', 'SCANNER') + TomlLine('scale', 'SCALE')
    + TomlLine('label_printer', 'LABELPRINTER') + TomlLine('document_printer', 'DOCUMENTPRINTER');
  if Lines = '' then
    exit;
  Path := ExpandConstant('{commonappdata}\Packbench\station.toml');
  ForceDirectories(ExtractFileDir(Path));
  if SaveStringToFile(Path, '# Written by the Packbench setup from its command line.' + #13#10
      + '# A user''s own settings override any of these.' + #13#10 + 'version = 2' + #13#10
      + Lines, False) then
    Log('packbench: wrote ' + Path)
  else
    Log('packbench: could not write ' + Path);
end;

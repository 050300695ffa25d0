; Inno Setup script for the Packbench station (Windows x64). Build steps: README.md here.
; Compile from the repository root after PyInstaller has produced dist\bundle\packbench:
;   iscc /DAppVersion=0.1.0 /DBuildId=abc123 packaging\windows\packbench.iss
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
Name: "{group}\Packbench self-test"; Filename: "{cmd}"; Parameters: "/k ""{app}\packbench.exe"" --self-test"
Name: "{group}\{cm:UninstallProgram,Packbench}"; Filename: "{uninstallexe}"
Name: "{autodesktop}\Packbench"; Filename: "{app}\packbench.exe"; Tasks: desktopicon
; All users' Startup folder: {userstartup} would be the profile of the admin who installs.
Name: "{commonstartup}\Packbench"; Filename: "{app}\packbench.exe"; Tasks: autostart

[Run]
Filename: "{app}\packbench.exe"; Description: "{cm:LaunchProgram,Packbench}"; Flags: nowait postinstall skipifsilent

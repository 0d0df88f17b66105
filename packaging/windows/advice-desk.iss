; Inno Setup script for Windows: installs the folder that `pyinstaller packaging\advice-desk.spec`
; builds on a Windows PC (dist\advice-desk), a Start-menu entry and an uninstaller.
; Build it there with Inno Setup 6: iscc packaging\windows\advice-desk.iss
; (it cannot be built on Linux; `make package` checks that every [Files] source is in the
; folder it builds, with ".exe" dropped from the program's name off Windows).
;
; The calls, backups and settings live in %LOCALAPPDATA%\advice-desk (platformdirs' user data
; and config folders), never in {app}: the uninstaller removes only what it installed, so the
; user's data stays.

#define AppName "Advice Desk"
#define AppVersion "0.1.0"
#define BuildDir "..\..\dist\advice-desk"

[Setup]
AppId={{CF040AAC-A47F-4E4B-9BEA-B2ED929ED88F}
AppName={#AppName}
AppVersion={#AppVersion}
AppPublisher=The Advice Desk developers
DefaultDirName={autopf}\Advice Desk
DefaultGroupName=Advice Desk
DisableProgramGroupPage=yes
; For the signed-in user without administrator rights; an administrator may install for all.
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\..\dist
OutputBaseFilename=advice-desk-{#AppVersion}-setup
SetupIconFile=..\..\resources\icons\advice-desk.ico
UninstallDisplayIcon={app}\advice-desk.exe
UninstallDisplayName={#AppName}
Compression=lzma2
SolidCompression=yes
WizardStyle=modern

[Files]
Source: "{#BuildDir}\advice-desk.exe"; DestDir: "{app}"; Flags: ignoreversion
Source: "{#BuildDir}\_internal\*"; DestDir: "{app}\_internal"; Flags: ignoreversion recursesubdirs createallsubdirs
Source: "{#BuildDir}\_internal\advice_desk\resources\icons\advice-desk.ico"; DestDir: "{app}"; Flags: ignoreversion

[Icons]
Name: "{group}\Advice Desk"; Filename: "{app}\advice-desk.exe"; IconFilename: "{app}\advice-desk.ico"; Comment: "Log, review and report the calls of the advice line"
Name: "{group}\Uninstall Advice Desk"; Filename: "{uninstallexe}"

[Run]
Filename: "{app}\advice-desk.exe"; Description: "Start Advice Desk"; Flags: nowait postinstall skipifsilent

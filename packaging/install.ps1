<#
.SYNOPSIS
Installs mcpauth for the current Windows user from a GitHub release, or removes it.

.DESCRIPTION
Downloads mcpauth-x86_64-pc-windows-msvc.zip and its .sha256 file, checks the archive's
SHA-256 before using it, copies mcpauth.exe into the install directory and puts that
directory on the user's PATH. Needs no administrator rights. Runs on Windows
PowerShell 5.1 and PowerShell 7.

Environment:
  MCPAUTH_VERSION       release to install, e.g. 0.1.0 or v0.1.0 (default: the latest)
  MCPAUTH_DOWNLOAD_URL  directory URL holding the archives, instead of the GitHub release
  MCPAUTH_INSTALL_DIR   where mcpauth.exe goes (default: %LOCALAPPDATA%\Programs\mcpauth\bin)

.EXAMPLE
irm https://github.com/mcpauth/mcpauth/releases/latest/download/install.ps1 | iex

.EXAMPLE
.\install.ps1 -Uninstall

.EXAMPLE
# Uninstalling without a local copy: a script block takes the switch, iex does not.
& ([scriptblock]::Create((irm https://github.com/mcpauth/mcpauth/releases/latest/download/install.ps1))) -Uninstall
#>
[CmdletBinding()]
param(
    # Remove mcpauth.exe and take the install directory off the user PATH.
    [switch]$Uninstall
)

# Everything lives in functions so that, run through `iex`, the variables and preferences
# set here stay out of the caller's session.

function Get-InstallDir {
    if ($env:MCPAUTH_INSTALL_DIR) { return $env:MCPAUTH_INSTALL_DIR }
    if (-not $env:LOCALAPPDATA) { throw 'LOCALAPPDATA is not set; set MCPAUTH_INSTALL_DIR to choose where mcpauth goes.' }
    return (Join-Path $env:LOCALAPPDATA 'Programs\mcpauth\bin')
}

function Get-BaseUrl {
    if ($env:MCPAUTH_DOWNLOAD_URL) { return $env:MCPAUTH_DOWNLOAD_URL.TrimEnd('/') }
    $version = "$env:MCPAUTH_VERSION".Trim()
    $repo = 'https://github.com/mcpauth/mcpauth'
    if ($version -eq '' -or $version -eq 'latest') { return "$repo/releases/latest/download" }
    # Release tags are v<version>; accept the version with or without the v.
    $version = $version -replace '^v', ''
    return "$repo/releases/download/v$version"
}

# Compares directories the way PATH lookups do: case-insensitively, with or without a
# trailing backslash, environment variables expanded.
function Test-SameDir([string]$a, [string]$b) {
    $norm = { param($p) [Environment]::ExpandEnvironmentVariables($p).Trim().TrimEnd('\') }
    return [string]::Equals((& $norm $a), (& $norm $b), [StringComparison]::OrdinalIgnoreCase)
}

# The user's PATH exactly as stored. Reading it through [Environment] would expand entries
# like %USERPROFILE%\bin, and writing that back would freeze them.
function Get-UserPath {
    $key = [Microsoft.Win32.Registry]::CurrentUser.OpenSubKey('Environment')
    if ($null -eq $key) { return '' }
    try {
        $value = $key.GetValue('Path', '', [Microsoft.Win32.RegistryValueOptions]::DoNotExpandEnvironmentNames)
        return [string]$value
    } finally {
        $key.Close()
    }
}

function Set-UserPath([string]$value) {
    $key = [Microsoft.Win32.Registry]::CurrentUser.CreateSubKey('Environment')
    try {
        # ExpandString keeps any %VAR% entries working, as Windows itself stores PATH.
        $key.SetValue('Path', $value, [Microsoft.Win32.RegistryValueKind]::ExpandString)
    } finally {
        $key.Close()
    }
    # Tell Explorer (and so every terminal opened from now on) that the environment
    # changed. Setting a variable through [Environment] broadcasts WM_SETTINGCHANGE; a
    # throwaway one does that without touching PATH's stored form.
    [Environment]::SetEnvironmentVariable('MCPAUTH_INSTALLER_BROADCAST', '1', 'User')
    [Environment]::SetEnvironmentVariable('MCPAUTH_INSTALLER_BROADCAST', $null, 'User')
}

function Add-ToUserPath([string]$dir) {
    $current = Get-UserPath
    $entries = @($current -split ';' | Where-Object { $_ -ne '' })
    foreach ($entry in $entries) {
        if (Test-SameDir $entry $dir) { return }
    }
    Set-UserPath ((@($entries) + $dir) -join ';')
    # This session too, so mcpauth works right away here.
    $env:Path = "$env:Path;$dir"
    Write-Host "Added $dir to your user PATH; terminals opened from now on will find mcpauth."
}

function Remove-FromUserPath([string]$dir) {
    $current = Get-UserPath
    $entries = @($current -split ';' | Where-Object { $_ -ne '' })
    $kept = @($entries | Where-Object { -not (Test-SameDir $_ $dir) })
    if ($kept.Count -eq $entries.Count) { return }
    Set-UserPath ($kept -join ';')
    Write-Host "Removed $dir from your user PATH."
}

function Get-ExpectedHash([string]$sumFile, [string]$archiveName) {
    # sha256sum format: "<hex>  <file name>"; only the hash matters once the name is right.
    $line = (Get-Content -LiteralPath $sumFile -TotalCount 1)
    $fields = @("$line".Trim() -split '\s+')
    $hash = $fields[0].ToLowerInvariant()
    if ($hash -notmatch '^[0-9a-f]{64}$') {
        throw "The checksum file for $archiveName does not hold a SHA-256 hash (it starts '$line')."
    }
    if ($fields.Count -gt 1 -and $fields[1].TrimStart('*') -ne $archiveName) {
        throw "The checksum file names $($fields[1]), not $archiveName."
    }
    return $hash
}

function Save-Url([string]$url, [string]$file) {
    try {
        Invoke-WebRequest -UseBasicParsing -Uri $url -OutFile $file
    } catch {
        # Windows PowerShell's message ("(404) Not Found") does not say what was fetched.
        throw "Could not download ${url}: $($_.Exception.Message)"
    }
}

function Install-Mcpauth {
    $ErrorActionPreference = 'Stop'
    # Invoke-WebRequest's progress bar slows Windows PowerShell 5.1 downloads many times over.
    $ProgressPreference = 'SilentlyContinue'
    # Windows PowerShell 5.1 may default to TLS 1.0/1.1, which GitHub refuses.
    [Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12

    # Only an x64 build exists; ARM64 Windows 11 runs it under emulation, 32-bit Windows cannot.
    $arch = if ($env:PROCESSOR_ARCHITEW6432) { $env:PROCESSOR_ARCHITEW6432 } else { $env:PROCESSOR_ARCHITECTURE }
    if ($arch -eq 'x86') { throw 'mcpauth needs 64-bit Windows; there is no 32-bit build.' }
    if ($arch -eq 'ARM64') { Write-Host 'Note: installing the x64 build, which ARM64 Windows runs under emulation.' }

    $target = 'x86_64-pc-windows-msvc'
    $installDir = Get-InstallDir
    $baseUrl = Get-BaseUrl
    $archiveName = "mcpauth-$target.zip"
    $temp = Join-Path ([IO.Path]::GetTempPath()) ("mcpauth-install-" + [Guid]::NewGuid().ToString('N'))
    New-Item -ItemType Directory -Path $temp | Out-Null
    try {
        $archive = Join-Path $temp $archiveName
        $sumFile = "$archive.sha256"
        Write-Host "Downloading $baseUrl/$archiveName"
        Save-Url "$baseUrl/$archiveName" $archive
        Save-Url "$baseUrl/$archiveName.sha256" $sumFile

        $expected = Get-ExpectedHash $sumFile $archiveName
        $actual = (Get-FileHash -LiteralPath $archive -Algorithm SHA256).Hash.ToLowerInvariant()
        if ($actual -ne $expected) {
            Remove-Item -LiteralPath $archive -Force
            throw "Checksum mismatch for ${archiveName}: expected $expected, got $actual. The download was deleted and nothing was installed."
        }
        Write-Host "Checksum OK ($actual)"

        $unpacked = Join-Path $temp 'unpacked'
        Expand-Archive -LiteralPath $archive -DestinationPath $unpacked
        $exe = Join-Path $unpacked "mcpauth-$target\mcpauth.exe"
        if (-not (Test-Path -LiteralPath $exe -PathType Leaf)) {
            throw "$archiveName has no mcpauth-$target\mcpauth.exe."
        }

        New-Item -ItemType Directory -Force -Path $installDir | Out-Null
        $dest = Join-Path $installDir 'mcpauth.exe'
        $old = "$dest.old"
        # A running mcpauth.exe (say, a proxy an MCP client started) cannot be overwritten
        # but can be renamed; the old copy goes on the next run.
        if (Test-Path -LiteralPath $old) { Remove-Item -LiteralPath $old -Force -ErrorAction SilentlyContinue }
        if (Test-Path -LiteralPath $dest) { Move-Item -LiteralPath $dest -Destination $old -Force }
        try {
            Copy-Item -LiteralPath $exe -Destination $dest
        } catch {
            # Put the previous version back rather than leave no mcpauth at all.
            if (Test-Path -LiteralPath $old) { Move-Item -LiteralPath $old -Destination $dest -Force }
            throw
        }
        if (Test-Path -LiteralPath $old) { Remove-Item -LiteralPath $old -Force -ErrorAction SilentlyContinue }
        Write-Host "Installed $dest"
        & $dest --version

        Add-ToUserPath $installDir
        Write-Host 'PowerShell completion: add this line to your $PROFILE:'
        Write-Host '  mcpauth completions powershell | Out-String | Invoke-Expression'
    } finally {
        Remove-Item -LiteralPath $temp -Recurse -Force -ErrorAction SilentlyContinue
    }
}

function Uninstall-Mcpauth {
    $ErrorActionPreference = 'Stop'
    $installDir = Get-InstallDir
    $dest = Join-Path $installDir 'mcpauth.exe'
    if (Test-Path -LiteralPath $dest) {
        try {
            Remove-Item -LiteralPath $dest -Force
        } catch {
            throw "Could not remove ${dest}: $($_.Exception.Message) Is mcpauth still running (an MCP client's proxy, say)? Close it and run this again."
        }
        Write-Host "Removed $dest"
    } else {
        Write-Host "Nothing to remove: $dest does not exist."
    }
    Remove-Item -LiteralPath "$dest.old" -Force -ErrorAction SilentlyContinue
    Remove-FromUserPath $installDir
    # Leave the directory only when something else lives there.
    if ((Test-Path -LiteralPath $installDir) -and -not (Get-ChildItem -LiteralPath $installDir -Force)) {
        Remove-Item -LiteralPath $installDir -Force
        # The default layout's Programs\mcpauth too, once empty.
        $parent = Split-Path -Parent $installDir
        if (-not $env:MCPAUTH_INSTALL_DIR -and (Test-Path -LiteralPath $parent) -and -not (Get-ChildItem -LiteralPath $parent -Force)) {
            Remove-Item -LiteralPath $parent -Force
        }
    }
}

if ($Uninstall) { Uninstall-Mcpauth } else { Install-Mcpauth }

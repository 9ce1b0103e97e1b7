<#
.SYNOPSIS
  tcpsnap-collect.ps1: collect this Windows host's TCP state into a tcpsnap
  bundle (format tcpsnap.bundle/v1, see collect/doc.go) for `tcpsnap analyze`.

.DESCRIPTION
  Windows PowerShell 5.1 or later. Read-only; never resolves names
  (netstat -ano is numeric); every command runs under a time limit.
  Per sample: netstat -ano, Get-NetTCPConnection (CSV), netstat -s -p tcp.
  Once: netsh dynamic and excluded port ranges, TcpTimedWaitDelay and
  MaxUserPort from the registry (sysctl.txt, "name = value"), the process
  list with handle counts (processes.json), manifest.json.
  Writes tcpsnap-<host>-<UTC time>.zip with Compress-Archive, under a
  temporary name in the output's folder, moved into place when complete; an
  error or Ctrl-C leaves neither the zip nor the work folder.

.EXAMPLE
  powershell -ExecutionPolicy Bypass -File tcpsnap-collect.ps1 -Samples 2 -Interval 5
#>
[CmdletBinding()]
param(
    [string]$Output = "",
    [ValidateRange(1, 100)][int]$Samples = 2,
    [ValidateRange(0, 3600)][int]$Interval = 5,
    [ValidateRange(1, 3600)][int]$Timeout = 30,
    [long]$MaxFileBytes = 134217728
)

Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'

$Version = 'ps1-1'
$HostName = $env:COMPUTERNAME
$SafeHost = $HostName -replace '[^A-Za-z0-9._-]', '_'
$Stamp = (Get-Date).ToUniversalTime().ToString('yyyyMMddTHHmmssZ')
$Base = "tcpsnap-$SafeHost-$Stamp"
if ($Output -eq '') { $Output = Join-Path (Get-Location) "$Base.zip" }
# .NET resolves a relative path against the process's folder, not the
# PowerShell location: make it absolute.
$Output = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($Output)
if (Test-Path -LiteralPath $Output) { [Console]::Error.WriteLine("tcpsnap-collect: $Output exists"); exit 2 }

# The zip is written under a temporary name in the output's folder and moved
# into place only when complete: the output holds a whole bundle or nothing.
# On an error or Ctrl-C the finally block below removes the work folder and
# the temporary zip. (Compress-Archive wants a name ending in .zip.)
$TmpOut = Join-Path (Split-Path -Parent $Output) ('.{0}.tmp-{1}.zip' -f (Split-Path -Leaf $Output), [guid]::NewGuid().ToString('N'))
$Work = Join-Path ([IO.Path]::GetTempPath()) ("tcpsnap-" + [guid]::NewGuid().ToString('N'))
$Dir = Join-Path $Work $Base
$Done = $false
try {
    New-Item -ItemType Directory -Path $Dir -Force | Out-Null

    $Sources = New-Object System.Collections.ArrayList
    $Notes = New-Object System.Collections.ArrayList
    $SampleList = New-Object System.Collections.ArrayList
    $Clock = [Diagnostics.Stopwatch]::StartNew()
    $Start = (Get-Date).ToUniversalTime()

    $IsAdmin = ([Security.Principal.WindowsPrincipal][Security.Principal.WindowsIdentity]::GetCurrent()).IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)
    if (-not $IsAdmin) { [void]$Notes.Add("not running as Administrator: owning processes of some sockets may be missing") }
    [void]$Notes.Add("platform windows (ps1): per sample netstat -ano, Get-NetTCPConnection, netstat -s -p tcp; once netsh int ipv4 show dynamicport tcp, netsh int ipv4 show excludedportrange protocol=tcp, Tcpip\Parameters TcpTimedWaitDelay and MaxUserPort, process list with handle counts")

    function Add-Item([string]$Path, [string]$Command, [string]$File, [int]$Status, [double]$Ms, [long]$Bytes, [bool]$Truncated, [string]$Err, [int]$Sample) {
        $o = [ordered]@{ path = $Path }
        if ($Command) { $o.command = $Command }
        if ($File) { $o.file = $File }
        $o.exit_status = $Status
        $o.duration_ms = [math]::Round($Ms, 3)
        $o.bytes = $Bytes
        if ($Truncated) { $o.truncated = $true }
        if ($Err) { $o.error = $Err }
        $o.sample = $Sample
        [void]$Sources.Add($o)
    }

    # Limit-File cuts a file to MaxFileBytes; returns whether it was cut.
    function Limit-File([string]$Full) {
        $len = (Get-Item -LiteralPath $Full).Length
        if ($len -le $MaxFileBytes) { return $false }
        $fs = [IO.File]::Open($Full, 'Open', 'ReadWrite')
        try { $fs.SetLength($MaxFileBytes) } finally { $fs.Close() }
        return $true
    }

    # Invoke-Bounded runs a native program with a time limit, output to a file.
    function Invoke-Bounded([string]$Path, [int]$Sample, [string]$Exe, [string[]]$Arguments) {
        $full = Join-Path $Dir $Path
        New-Item -ItemType Directory -Path (Split-Path $full) -Force | Out-Null
        $cmdline = ($Exe + ' ' + ($Arguments -join ' ')).Trim()
        $t0 = $Clock.Elapsed.TotalMilliseconds
        $errFile = Join-Path $Work 'stderr.txt'
        try {
            $p = Start-Process -FilePath $Exe -ArgumentList $Arguments -NoNewWindow -PassThru `
                -RedirectStandardOutput $full -RedirectStandardError $errFile
            if (-not $p.WaitForExit($Timeout * 1000)) {
                $p.Kill()
                Add-Item '' $cmdline '' -1 ($Clock.Elapsed.TotalMilliseconds - $t0) 0 $false "timed out after ${Timeout}s" $Sample
                Remove-Item -LiteralPath $full -ErrorAction SilentlyContinue
                return
            }
            $status = $p.ExitCode
            $cut = Limit-File $full
            $err = ''
            if ($status -ne 0) { $err = "exit status $status" }
            Add-Item $Path $cmdline '' $status ($Clock.Elapsed.TotalMilliseconds - $t0) (Get-Item -LiteralPath $full).Length $cut $err $Sample
        } catch {
            Add-Item '' $cmdline '' -1 ($Clock.Elapsed.TotalMilliseconds - $t0) 0 $false $_.Exception.Message $Sample
        }
    }

    # Save-Text writes text produced in PowerShell into the bundle.
    function Save-Text([string]$Path, [string]$Label, [int]$Sample, [scriptblock]$Producer) {
        $full = Join-Path $Dir $Path
        New-Item -ItemType Directory -Path (Split-Path $full) -Force | Out-Null
        $t0 = $Clock.Elapsed.TotalMilliseconds
        try {
            $text = & $Producer
            [IO.File]::WriteAllText($full, ($text -join "`n") + "`n", (New-Object Text.UTF8Encoding $false))
            $cut = Limit-File $full
            Add-Item $Path $Label '' 0 ($Clock.Elapsed.TotalMilliseconds - $t0) (Get-Item -LiteralPath $full).Length $cut '' $Sample
        } catch {
            Remove-Item -LiteralPath $full -ErrorAction SilentlyContinue
            Add-Item '' $Label '' -1 ($Clock.Elapsed.TotalMilliseconds - $t0) 0 $false $_.Exception.Message $Sample
        }
    }

    # --- host-level sources -----------------------------------------------------
    Invoke-Bounded 'netsh-dynamicport.txt' -1 'netsh' @('int', 'ipv4', 'show', 'dynamicport', 'tcp')
    Invoke-Bounded 'netsh-excludedportrange.txt' -1 'netsh' @('int', 'ipv4', 'show', 'excludedportrange', 'protocol=tcp')
    Save-Text 'sysctl.txt' 'registry HKLM\SYSTEM\CurrentControlSet\Services\Tcpip\Parameters' -1 {
        $key = 'HKLM:\SYSTEM\CurrentControlSet\Services\Tcpip\Parameters'
        $props = Get-ItemProperty -Path $key -ErrorAction SilentlyContinue
        foreach ($n in @('TcpTimedWaitDelay', 'MaxUserPort', 'TcpNumConnections', 'MaxFreeTcbs')) {
            if ($props -and ($props.PSObject.Properties.Name -contains $n)) { "$n = $($props.$n)" }
        }
        "TcpTimedWaitDelay.present = $([int]($props -and ($props.PSObject.Properties.Name -contains 'TcpTimedWaitDelay')))"
    }
    $os = Get-CimInstance -ClassName Win32_OperatingSystem -ErrorAction SilentlyContinue
    Save-Text 'uname.txt' 'Win32_OperatingSystem' -1 {
        if ($os) { "Windows $HostName $($os.Version) $($os.Caption) $env:PROCESSOR_ARCHITECTURE" } else { "Windows $HostName" }
    }

    # --- samples ----------------------------------------------------------------
    for ($i = 0; $i -lt $Samples; $i++) {
        if ($i -gt 0) {
            $wait = $i * $Interval * 1000 - $Clock.Elapsed.TotalMilliseconds
            if ($wait -gt 0) { Start-Sleep -Milliseconds ([int]$wait) }
        }
        $sd = "samples/$i"
        [void]$SampleList.Add([ordered]@{
            index = $i; dir = $sd
            time = (Get-Date).ToUniversalTime().ToString('o')
            elapsed_seconds = [math]::Round($Clock.Elapsed.TotalSeconds, 3)
        })
        Invoke-Bounded "$sd/netstat-ano.txt" $i 'netstat' @('-ano')
        Save-Text "$sd/get-nettcpconnection.csv" 'Get-NetTCPConnection | ConvertTo-Csv' $i {
            Get-NetTCPConnection | Select-Object LocalAddress, LocalPort, RemoteAddress, RemotePort, State, OwningProcess, CreationTime |
                ConvertTo-Csv -NoTypeInformation
        }
        Invoke-Bounded "$sd/netstat-s.txt" $i 'netstat' @('-s', '-p', 'tcp')
    }

    # --- processes.json: every process that owns a TCP connection -----------------
    Save-Text 'processes.json' 'Get-Process' -1 {
        $owners = @{}
        Get-NetTCPConnection -ErrorAction SilentlyContinue | ForEach-Object { $owners[[int]$_.OwningProcess] = $true }
        $list = foreach ($p in Get-Process) {
            if (-not $owners.ContainsKey([int]$p.Id)) { continue }
            [ordered]@{ pid = [int]$p.Id; name = $p.ProcessName; uid = -1; fds = [int]$p.HandleCount; fd_limit = -1 }
        }
        if ($null -eq $list) { '[]' } else { ConvertTo-Json -InputObject @($list) -Depth 3 }
    }

    # --- manifest.json and the zip -----------------------------------------------
    $uptime = 0
    if ($os) { $uptime = [math]::Round(((Get-Date) - $os.LastBootUpTime).TotalSeconds, 2) }
    $kernel = ''
    if ($os) { $kernel = $os.Version }
    $manifest = [ordered]@{
        format = 'tcpsnap.bundle/v1'
        version = $Version
        host = [ordered]@{ hostname = $HostName; os = 'windows'; kernel = $kernel; arch = $env:PROCESSOR_ARCHITECTURE; uptime_seconds = $uptime }
        start = $Start.ToString('o')
        end = (Get-Date).ToUniversalTime().ToString('o')
        root = $IsAdmin
        samples = @($SampleList)
        sources = @($Sources)
        notes = @($Notes)
    }
    [IO.File]::WriteAllText((Join-Path $Dir 'manifest.json'), (ConvertTo-Json -InputObject $manifest -Depth 6), (New-Object Text.UTF8Encoding $false))

    Compress-Archive -Path $Dir -DestinationPath $TmpOut -CompressionLevel Optimal
    # On disk before it takes its final name.
    $fs = [IO.File]::Open($TmpOut, 'Open', 'ReadWrite')
    try { $fs.Flush($true) } finally { $fs.Close() }
    # File.Move never replaces a file: it fails if one appeared at the output.
    [IO.File]::Move($TmpOut, $Output)
    $Done = $true
} finally {
    Remove-Item -LiteralPath $Work -Recurse -Force -ErrorAction SilentlyContinue
    if (-not $Done) {
        Remove-Item -LiteralPath $TmpOut -Force -ErrorAction SilentlyContinue
        [Console]::Error.WriteLine('tcpsnap-collect: stopped: no bundle written')
    }
}
Write-Output $Output

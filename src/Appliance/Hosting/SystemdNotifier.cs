using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Appliance.Hosting;

/// <summary>
/// sd_notify(3) without libsystemd: READY=1 once Kestrel listens, WATCHDOG=1 at half the unit's WatchdogSec,
/// STOPPING=1 on shutdown, sent as datagrams to $NOTIFY_SOCKET (a path, or '@' for the abstract namespace).
/// Does nothing outside systemd. Used instead of relying on the hosting package's parent-process detection
/// so that Type=notify and the watchdog work however the process was started.
/// The watchdog pings from a thread of its own, not a thread-pool timer: a pool kept busy by a flood of requests
/// must not get the service killed and restarted (which would serve the flood's purpose).
/// </summary>
internal sealed partial class SystemdNotifier(IHostApplicationLifetime lifetime, ILogger<SystemdNotifier> logger) : IHostedService, IDisposable
{
    private readonly string? _socketPath = Environment.GetEnvironmentVariable("NOTIFY_SOCKET");
    private readonly ManualResetEventSlim _stopping = new();

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(_socketPath)) return Task.CompletedTask;
        lifetime.ApplicationStarted.Register(() =>
        {
            Send("READY=1\nSTATUS=Serving");
            if (WatchdogInterval() is { } interval)
                new Thread(() => PingWatchdog(interval)) { IsBackground = true, Name = "systemd watchdog" }.Start();
        });
        lifetime.ApplicationStopping.Register(() => Send("STOPPING=1"));
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping.Set();
        return Task.CompletedTask;
    }

    private void PingWatchdog(TimeSpan interval)
    {
        do Send("WATCHDOG=1");
        while (!_stopping.Wait(interval));
    }

    /// <summary>Half of WATCHDOG_USEC (systemd.service(5) recommends pinging at half the interval), when it is meant for us.</summary>
    private static TimeSpan? WatchdogInterval()
    {
        var usec = Environment.GetEnvironmentVariable("WATCHDOG_USEC");
        var pid = Environment.GetEnvironmentVariable("WATCHDOG_PID");
        if (!long.TryParse(usec, NumberStyles.None, CultureInfo.InvariantCulture, out var microseconds) || microseconds <= 0) return null;
        if (!string.IsNullOrEmpty(pid) && pid != Environment.ProcessId.ToString(CultureInfo.InvariantCulture)) return null;
        return TimeSpan.FromMilliseconds(microseconds / 2000.0);
    }

    private void Send(string state)
    {
        try
        {
            var path = _socketPath!;
            // A leading '@' names an abstract socket: the address starts with a NUL byte.
            var endpoint = new UnixDomainSocketEndPoint(path[0] == '@' ? "\0" + path[1..] : path);
            using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            socket.Connect(endpoint);
            socket.Send(Encoding.UTF8.GetBytes(state));
        }
        catch (SocketException e)
        {
            LogNotifyFailed(logger, e, state.Split('\n')[0]);
        }
    }

    public void Dispose() => _stopping.Set();

    [LoggerMessage(EventId = EventIds.Hosting.SystemdNotifyFailed, Level = LogLevel.Warning, Message = "Could not tell systemd {State}")]
    private static partial void LogNotifyFailed(ILogger logger, Exception exception, string state);
}

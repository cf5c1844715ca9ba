using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Appliance.Tests;

/// <summary>
/// The real NativeAOT `appliance` binary (APPLIANCE_BINARY, set by ./build.sh test) serving on loopback
/// with a fresh state directory. Stops the process on dispose.
/// </summary>
public sealed class ApplianceProcess : IAsyncDisposable
{
    public const string AdminPassword = "correct horse battery staple";
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ApplianceProcess(Process process, string stateDirectory, int httpsPort, int httpPort)
    {
        _process = process;
        StateDirectory = stateDirectory;
        HttpsPort = httpsPort;
        HttpPort = httpPort;
    }

    public string StateDirectory { get; }
    /// <summary>The appliance's process id, for what /proc says about it.</summary>
    public int ProcessId => _process.Id;
    public int HttpsPort { get; }
    public int HttpPort { get; }
    public Uri BaseUri => new($"https://127.0.0.1:{HttpsPort}/appliance/api/v1/");
    public string Output { get { lock (_output) return _output.ToString(); } }

    public static string Binary
    {
        get
        {
            var path = Environment.GetEnvironmentVariable("APPLIANCE_BINARY");
            if (string.IsNullOrEmpty(path) || !File.Exists(path))
                throw new InvalidOperationException("APPLIANCE_BINARY does not name the published appliance binary; run the tests with ./build.sh test (it publishes out/appliance first).");
            return path;
        }
    }

    /// <summary>
    /// <c>appliance routes</c>: every endpoint of the service as (method, pattern, audit action or "-"), the method "*"
    /// for a fallback route. Read from the binary's own endpoint data source, so no route is missed.
    /// </summary>
    public static async Task<IReadOnlyList<(string Method, string Pattern, string Audit)>> RoutesAsync()
    {
        var info = new ProcessStartInfo(Binary) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("routes");
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"appliance routes exited with {process.ExitCode}:\n{await output}{await errors}");
        return (await output).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(line => line.Contains('\t'))
            .Select(line =>
            {
                var tab = line.Split('\t');
                var space = tab[0].IndexOf(' ');
                return (tab[0][..space], tab[0][(space + 1)..], tab.Length > 1 ? tab[1] : "-");
            })
            .ToList();
    }

    public static Task<ApplianceProcess> StartAsync(string? stateDirectory = null, string? adminPassword = AdminPassword, params string[] extraArgs) =>
        StartWithEnvironmentAsync(new Dictionary<string, string>(), stateDirectory, adminPassword, extraArgs);

    public static async Task<ApplianceProcess> StartWithEnvironmentAsync(IReadOnlyDictionary<string, string> environment, string? stateDirectory, string? adminPassword, params string[] extraArgs)
    {
        stateDirectory ??= Directory.CreateTempSubdirectory("appliance-state-").FullName;
        var httpsPort = FreePort();
        var httpPort = FreePort();
        var info = new ProcessStartInfo(Binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // Key protection is the caller's choice when extraArgs names it (--tpm, --key-protection); software otherwise.
        string[] protection = extraArgs.Any(a => a is "--tpm" or "--key-protection") ? [] : ["--key-protection", "software"];
        // Loopback only by default; a caller may bind [::] (dual-stack) to reach 127.0.0.2, 127.0.0.3, ::1 as separate local addresses.
        string[] bind = extraArgs.Contains("--bind") ? [] : ["--bind", "127.0.0.1"];
        foreach (var arg in new[] { "serve", "--state-dir", stateDirectory }.Concat(bind).Concat(new[] { "--https-port", httpsPort.ToString(), "--http-port", httpPort.ToString() }).Concat(protection).Concat(extraArgs))
            info.ArgumentList.Add(arg);
        info.Environment.Remove("APPLIANCE_ADMIN_PASSWORD");
        if (adminPassword is not null) info.Environment["APPLIANCE_ADMIN_PASSWORD"] = adminPassword;
        foreach (var (name, value) in environment) info.Environment[name] = value;
        var process = Process.Start(info)!;
        var appliance = new ApplianceProcess(process, stateDirectory, httpsPort, httpPort);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (appliance._output) appliance._output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (appliance._output) appliance._output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await appliance.WaitUntilListeningAsync();
        return appliance;
    }

    private Task WaitUntilListeningAsync() =>
        ExternalTools.WaitForPortAsync(HttpsPort, () => _process.HasExited, () => $"exit code {(_process.HasExited ? _process.ExitCode : 0)}\n{Output}", "The appliance");

    /// <summary>
    /// A client that trusts any server certificate (the tests check certificates themselves) and keeps cookies;
    /// with <paramref name="source"/>, its connections come from that loopback address (127.0.0.2 etc.), so the
    /// appliance sees a different client address. <paramref name="cookies"/> lets a test read the cookies it holds;
    /// <paramref name="maxConnections"/> caps the connections a flood of parallel requests opens.
    /// </summary>
    public HttpClient Client(IPAddress? source = null, CookieContainer? cookies = null, int maxConnections = int.MaxValue)
    {
        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = maxConnections,
            SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true },
            CookieContainer = cookies ?? new CookieContainer(),
            AllowAutoRedirect = false,
        };
        if (source is not null) handler.ConnectCallback = ConnectFrom(source);
        return new HttpClient(handler) { BaseAddress = BaseUri, Timeout = TimeSpan.FromSeconds(60) };
    }

    /// <summary>A <see cref="SocketsHttpHandler.ConnectCallback"/> whose connections come from <paramref name="source"/>.</summary>
    public static Func<SocketsHttpConnectionContext, CancellationToken, ValueTask<Stream>> ConnectFrom(IPAddress source) =>
        async (context, token) =>
        {
            var socket = new Socket(source.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                socket.Bind(new IPEndPoint(source, 0));
                await socket.ConnectAsync(context.DnsEndPoint, token);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        };

    /// <summary>The CPU time the appliance has used so far (user and system, from /proc/PID/stat).</summary>
    public TimeSpan CpuTime()
    {
        var stat = File.ReadAllText($"/proc/{_process.Id}/stat");
        // The fields after the command name (which may hold spaces) in ')'; utime and stime are fields 14 and 15 (proc(5)).
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11]) + long.Parse(fields[12]);
        return TimeSpan.FromSeconds(ticks / (double)ClockTicksPerSecond);
    }

    // sysconf(_SC_CLK_TCK): 100 on every Linux architecture .NET runs on (USER_HZ).
    private const int ClockTicksPerSecond = 100;

    public async Task<HttpClient> LoginAsync(string password = AdminPassword, string username = "admin", IPAddress? source = null)
    {
        var client = Client(source);
        var response = await client.PostAsJsonAsync("session", new { username, password });
        if (response.StatusCode != HttpStatusCode.OK)
            throw new InvalidOperationException($"Login failed with {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return client;
    }

    public async Task StopAsync()
    {
        if (_process.HasExited) return;
        _process.Kill(entireProcessTree: false); // SIGKILL; see KillGracefully for SIGTERM
        await _process.WaitForExitAsync();
    }

    /// <summary>SIGTERM, as systemd stops the service.</summary>
    public async Task TerminateAsync()
    {
        if (_process.HasExited) return;
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString()])) await kill!.WaitForExitAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await _process.WaitForExitAsync(timeout.Token);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _process.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>One appliance shared by the API tests of a collection: the box is started once.</summary>
public sealed class ApplianceFixture : IAsyncLifetime
{
    public ApplianceProcess Appliance { get; private set; } = null!;

    public async ValueTask InitializeAsync() => Appliance = await ApplianceProcess.StartAsync();

    public async ValueTask DisposeAsync() => await Appliance.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class ApplianceCollection : ICollectionFixture<ApplianceFixture>, ICollectionFixture<OpenSslFixture>
{
    public const string Name = "appliance";
}

public static class Json
{
    public static async Task<JsonElement> ReadAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return JsonDocument.Parse(text).RootElement.Clone();
    }
}

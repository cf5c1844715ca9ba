using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;

namespace Image.Tests;

/// <summary>
/// One virtual B Series box booted from the built image (APPLIANCE_IMAGE, set by ./build.sh test) with
/// hw/qemu/launch.sh: QEMU TCG, OVMF, swtpm. Its state (disk overlay, TPM, serial log) lives in a
/// temporary box directory; its HTTPS and HTTP ports are forwarded to free loopback ports.
/// </summary>
public sealed class Box : IAsyncDisposable
{
    public const string AdminPassword = "correct horse battery staple";
    private readonly string _credentials;

    public Box(string name, string credentials = "")
    {
        Directory = System.IO.Directory.CreateTempSubdirectory($"appliance-box-{name}-").FullName;
        HttpsPort = FreePort();
        HttpPort = FreePort();
        _credentials = credentials;
    }

    public string Directory { get; }
    public int HttpsPort { get; }
    public int HttpPort { get; }
    public bool Running { get; private set; }
    /// <summary>Seconds from power-on (swtpm and QEMU started) to appliance.service's READY=1 on the serial console, per boot.</summary>
    public List<double> BootToReadySeconds { get; } = [];
    public Uri BaseUri => new($"https://127.0.0.1:{HttpsPort}/appliance/api/v1/");
    public string SerialLogPath => Path.Combine(Directory, "serial.log");
    public string SerialLog => File.Exists(SerialLogPath) ? File.ReadAllText(SerialLogPath) : "";
    public string LauncherLog { get; private set; } = "";

    public static string Image
    {
        get
        {
            var path = Environment.GetEnvironmentVariable("APPLIANCE_IMAGE");
            if (string.IsNullOrEmpty(path) || !File.Exists(path))
                throw new InvalidOperationException("APPLIANCE_IMAGE does not name the built firmware image; run the tests with ./build.sh test (it builds out/image/b-series-x64.img first).");
            return path;
        }
    }

    public static string Repository
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "hw", "qemu", "launch.sh"))) return dir.FullName;
            throw new InvalidOperationException("hw/qemu/launch.sh not found above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>Powers the box on and waits for appliance.service's READY=1 (the appliance-ready line on the serial console).</summary>
    public async Task StartAsync()
    {
        var watch = Stopwatch.StartNew();
        try { await LaunchAsync("start", TimeSpan.FromMinutes(12)); }
        catch (InvalidOperationException)
        {
            // launch.sh leaves a box that did not get ready running: power it off before failing.
            await LaunchAsync("kill", TimeSpan.FromMinutes(1));
            throw;
        }
        watch.Stop();
        Running = true;
        BootToReadySeconds.Add(Math.Round(watch.Elapsed.TotalSeconds, 1));
        // The forwarded port answers once the ready line is out; give the user-mode network a moment.
        await WaitForHttpsAsync(TimeSpan.FromSeconds(60));
    }

    /// <summary>Clean ACPI power-off (QMP system_powerdown), as a user pressing the power button.</summary>
    public async Task StopAsync()
    {
        await LaunchAsync("stop", TimeSpan.FromMinutes(3));
        Running = false;
    }

    /// <summary>Hard power-off: QEMU killed.</summary>
    public async Task KillAsync()
    {
        await LaunchAsync("kill", TimeSpan.FromMinutes(1));
        Running = false;
    }

    /// <summary>Gives the same disk another TPM (new swtpm state at the next start).</summary>
    public void ReplaceTpm()
    {
        if (Running) throw new InvalidOperationException("power the box off first");
        System.IO.Directory.Delete(Path.Combine(Directory, "tpm"), recursive: true);
    }

    private async Task LaunchAsync(string command, TimeSpan timeout)
    {
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { Path.Combine(Repository, "hw", "qemu", "launch.sh"), command, Directory }) info.ArgumentList.Add(arg);
        info.Environment["IMAGE"] = Image;
        info.Environment["APPLIANCE_ADMIN_PASSWORD"] = AdminPassword;
        info.Environment["BOX_CREDENTIALS"] = _credentials;
        info.Environment["READY"] = "service";
        info.Environment["READY_TIMEOUT"] = ((int)timeout.TotalSeconds - 30).ToString();
        info.Environment["HOST_HTTPS_PORT"] = HttpsPort.ToString();
        info.Environment["HOST_HTTP_PORT"] = HttpPort.ToString();
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try { await process.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException) { process.Kill(entireProcessTree: true); }
        var output = await stdout + await stderr;
        LauncherLog += output;
        if (!process.HasExited || process.ExitCode != 0)
            throw new InvalidOperationException($"launch.sh {command} failed:\n{output}\n--- serial console (last 60 lines) ---\n{Tail(SerialLog, 60)}");
    }

    private async Task WaitForHttpsAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        using var client = Client();
        while (true)
        {
            try
            {
                using var response = await client.GetAsync("status");
                return;
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline) { await Task.Delay(1000); }
            catch (TaskCanceledException) when (DateTime.UtcNow < deadline) { await Task.Delay(1000); }
        }
    }

    public static string Tail(string text, int lines) => string.Join('\n', text.Split('\n').TakeLast(lines));

    /// <summary>A client that accepts any server certificate (the tests check certificates with openssl) and keeps cookies.</summary>
    public HttpClient Client()
    {
        var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator,
            CookieContainer = new CookieContainer(),
            AllowAutoRedirect = false,
        };
        return new HttpClient(handler) { BaseAddress = BaseUri, Timeout = TimeSpan.FromSeconds(90) };
    }

    public async Task<HttpClient> LoginAsync()
    {
        var client = Client();
        var response = await client.PostAsJsonAsync("session", new { username = "admin", password = AdminPassword });
        if (response.StatusCode != HttpStatusCode.OK)
            throw new InvalidOperationException($"Login failed with {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return client;
    }

    public async Task<JsonElement> StatusAsync()
    {
        using var client = await LoginAsync();
        var response = await client.GetAsync("status");
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"status: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>The leaf certificate the box serves for <paramref name="sni"/> (null: no SNI), fetched with openssl s_client.</summary>
    public X509Certificate2 Served(string? sni)
    {
        var info = new ProcessStartInfo("openssl") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var arg in new[] { "s_client", "-connect", $"127.0.0.1:{HttpsPort}" }) info.ArgumentList.Add(arg);
        if (sni is null) info.ArgumentList.Add("-noservername");
        else { info.ArgumentList.Add("-servername"); info.ArgumentList.Add(sni); }
        using var process = Process.Start(info)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(60_000)) { process.Kill(); throw new TimeoutException("openssl s_client"); }
        var text = stdout.Result;
        var start = text.IndexOf("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal);
        var end = text.IndexOf("-----END CERTIFICATE-----", Math.Max(start, 0), StringComparison.Ordinal);
        if (start < 0 || end < 0) throw new InvalidOperationException($"no certificate served for SNI '{sni}':\n{text}\n{stderr.Result}");
        return X509Certificate2.CreateFromPem(text.AsSpan(start, end + "-----END CERTIFICATE-----".Length - start));
    }

    public static string Fingerprint(X509Certificate2 certificate) => Convert.ToHexStringLower(SHA256.HashData(certificate.RawData));

    public async ValueTask DisposeAsync()
    {
        try { if (Running) await StopAsync(); }
        catch (InvalidOperationException) { await KillAsync(); }
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

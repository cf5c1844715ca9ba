using System.Diagnostics;
using System.Text;

namespace Appliance.Acme.Tests.Infrastructure;

/// <summary>
/// One pebble (Debian's ACME test server) with its own config: listening on 127.0.0.1, its TLS certificate
/// issued by the test CA in <see cref="PebbleTls"/>, its validation authority pointed at <c>httpPort</c> and
/// resolving every name through <c>-dnsserver</c>. Extra environment (PEBBLE_WFE_NONCEREJECT, ...) per instance.
/// </summary>
public sealed class PebbleServer : IAsyncDisposable
{
    public const string EabKeyId = "kid-1";
    public const string EabHmacKey = "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W";

    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private PebbleServer(Process process, int port, int managementPort)
    {
        _process = process;
        Port = port;
        ManagementPort = managementPort;
    }

    public int Port { get; }
    public int ManagementPort { get; }
    public Uri DirectoryUrl => new($"https://127.0.0.1:{Port}/dir");
    public string Output { get { lock (_output) return _output.ToString(); } }

    public static async Task<PebbleServer> StartAsync(PebbleTls tls, int httpPort, int dnsPort, bool requireEab = false,
        IReadOnlyDictionary<string, string>? environment = null, string ocspResponderUrl = "")
    {
        var pebble = ExternalTools.Require("pebble", "pebble");
        var port = ExternalTools.FreeTcpPort();
        var managementPort = ExternalTools.FreeTcpPort();
        var config = Path.Combine(tls.Directory, $"pebble-{port}.json");
        File.WriteAllText(config, $$"""
            {
              "pebble": {
                "listenAddress": "127.0.0.1:{{port}}",
                "managementListenAddress": "127.0.0.1:{{managementPort}}",
                "certificate": "{{tls.CertificatePath}}",
                "privateKey": "{{tls.KeyPath}}",
                "httpPort": {{httpPort}},
                "tlsPort": {{ExternalTools.FreeTcpPort()}},
                "ocspResponderURL": "{{ocspResponderUrl}}",
                "externalAccountBindingRequired": {{(requireEab ? "true" : "false")}},
                "externalAccountMACKeys": { "{{EabKeyId}}": "{{EabHmacKey}}" }
              }
            }
            """);
        var info = new ProcessStartInfo(pebble) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "-config", config, "-dnsserver", $"127.0.0.1:{dnsPort}" }) info.ArgumentList.Add(arg);
        info.Environment["PEBBLE_VA_NOSLEEP"] = "1";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) info.Environment[name] = value;
        var process = Process.Start(info)!;
        var server = new PebbleServer(process, port, managementPort);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (server._output) server._output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (server._output) server._output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await ExternalTools.WaitForPortAsync(port, () => process.HasExited, () => server.Output, "pebble");
        return server;
    }

    /// <summary>The common name of pebble's root number <paramref name="index"/> (0 the default chain's, 1.. the alternates'), from its management interface.</summary>
    public async Task<string> RootNameAsync(int index, HttpClient http)
    {
        var pem = await http.GetStringAsync($"https://127.0.0.1:{ManagementPort}/roots/{index}");
        return System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(pem)
            .GetNameInfo(System.Security.Cryptography.X509Certificates.X509NameType.SimpleName, forIssuer: false);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}

/// <summary>A CA and a localhost/127.0.0.1 server certificate made with openssl for pebble's HTTPS listener.</summary>
public sealed class PebbleTls : IDisposable
{
    public PebbleTls()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("pebble-tls-").FullName;
        string P(string name) => Path.Combine(Directory, name);
        ExternalTools.Run("openssl", "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", P("ca.key"), "-out", P("ca.pem"), "-days", "30", "-subj", "/CN=Pebble test TLS CA",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
        ExternalTools.Run("openssl", "openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", P("server.key"), "-out", P("server.csr"), "-subj", "/CN=localhost");
        File.WriteAllText(P("server.ext"), "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n");
        ExternalTools.Run("openssl", "openssl", "x509", "-req", "-in", P("server.csr"), "-CA", P("ca.pem"), "-CAkey", P("ca.key"),
            "-CAcreateserial", "-out", P("server.pem"), "-days", "30", "-extfile", P("server.ext"));
    }

    public string Directory { get; }
    public string CaPath => Path.Combine(Directory, "ca.pem");
    public string CertificatePath => Path.Combine(Directory, "server.pem");
    public string KeyPath => Path.Combine(Directory, "server.key");

    public void Dispose()
    {
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { }
    }
}

using Appliance.Acme.Tests.Infrastructure;

namespace Appliance.Tests;

/// <summary>
/// An appliance that trusts a pebble ACME server (EAB required) whose validation authority resolves every name to
/// the appliance through a test DNS responder: the peers of the end-to-end ACME tests (API and pages).
/// </summary>
public sealed class AcmeBox : IAsyncDisposable
{
    public PebbleTls Tls { get; private init; } = null!;
    public DnsResponder Dns { get; private init; } = null!;
    public ApplianceProcess Appliance { get; private set; } = null!;
    public PebbleServer Pebble { get; private set; } = null!;

    /// <param name="pebbleEnvironment">Extra pebble environment, such as PEBBLE_ALTERNATE_ROOTS.</param>
    /// <param name="ocspResponderUrl">The OCSP URL pebble writes into the certificates it issues; none when empty.</param>
    public static async Task<AcmeBox> StartAsync(IReadOnlyDictionary<string, string>? pebbleEnvironment = null, string ocspResponderUrl = "")
    {
        var box = new AcmeBox { Tls = new PebbleTls(), Dns = new DnsResponder() };
        // The appliance's CAA pre-check asks the same DNS responder as pebble.
        box.Appliance = await ApplianceProcess.StartAsync(null, ApplianceProcess.AdminPassword, "--acme-ca-file", box.Tls.CaPath,
            "--dns-server", $"127.0.0.1:{box.Dns.Port}");
        box.Pebble = await PebbleServer.StartAsync(box.Tls, box.Appliance.HttpPort, box.Dns.Port, requireEab: true, pebbleEnvironment, ocspResponderUrl);
        return box;
    }

    /// <summary>An HttpClient that trusts pebble's test TLS CA (for its directory and management interface).</summary>
    public HttpClient PebbleHttpClient()
    {
        var ca = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificateFromFile(Tls.CaPath);
        var policy = new System.Security.Cryptography.X509Certificates.X509ChainPolicy
        {
            TrustMode = System.Security.Cryptography.X509Certificates.X509ChainTrustMode.CustomRootTrust,
            RevocationMode = System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck,
        };
        policy.CustomTrustStore.Add(ca);
        return new HttpClient(new SocketsHttpHandler { SslOptions = { CertificateChainPolicy = policy } });
    }

    /// <summary>Takes the ACME server away (an unreachable directory).</summary>
    public async Task StopPebbleAsync()
    {
        await Pebble.DisposeAsync();
        Pebble = null!;
    }

    public async ValueTask DisposeAsync()
    {
        if (Pebble is not null) await Pebble.DisposeAsync();
        if (Appliance is not null) await Appliance.DisposeAsync();
        Dns?.Dispose();
        Tls?.Dispose();
    }
}

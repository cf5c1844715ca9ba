namespace Appliance.Acme.Tests.Infrastructure;

/// <summary>
/// The ACME peers of the collection: a DNS responder, the challenge HTTP listener, and four pebbles:
/// plain, rejecting half of all nonces (PEBBLE_WFE_NONCEREJECT=50), requiring external account binding, and with long and alternate chains.
/// </summary>
public sealed class PebbleFixture : IAsyncLifetime
{
    public PebbleTls Tls { get; private set; } = null!;
    public DnsResponder Dns { get; private set; } = null!;
    public ChallengeHttpServer Http { get; private set; } = null!;
    public PebbleServer Plain { get; private set; } = null!;
    public PebbleServer NonceRejecting { get; private set; } = null!;
    public PebbleServer EabRequired { get; private set; } = null!;
    /// <summary>Two extra intermediates (PEBBLE_CHAIN_LENGTH=3) and one alternate root chain (PEBBLE_ALTERNATE_ROOTS=1).</summary>
    public PebbleServer LongChains { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Tls = new PebbleTls();
        Dns = new DnsResponder();
        Http = new ChallengeHttpServer();
        Plain = await PebbleServer.StartAsync(Tls, Http.Port, Dns.Port);
        NonceRejecting = await PebbleServer.StartAsync(Tls, Http.Port, Dns.Port,
            environment: new Dictionary<string, string> { ["PEBBLE_WFE_NONCEREJECT"] = "50" });
        EabRequired = await PebbleServer.StartAsync(Tls, Http.Port, Dns.Port, requireEab: true);
        LongChains = await PebbleServer.StartAsync(Tls, Http.Port, Dns.Port,
            environment: new Dictionary<string, string> { ["PEBBLE_CHAIN_LENGTH"] = "3", ["PEBBLE_ALTERNATE_ROOTS"] = "1" });
    }

    public HttpClient CreateHttpClient() => AcmeHttp.CreateClient(Tls.CaPath);

    public async ValueTask DisposeAsync()
    {
        foreach (var pebble in new[] { Plain, NonceRejecting, EabRequired, LongChains })
            if (pebble is not null) await pebble.DisposeAsync();
        Http?.Dispose();
        Dns?.Dispose();
        Tls?.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class PebbleCollection : ICollectionFixture<PebbleFixture>
{
    public const string Name = "pebble";
}

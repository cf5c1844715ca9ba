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

    public static async Task<AcmeBox> StartAsync()
    {
        var box = new AcmeBox { Tls = new PebbleTls(), Dns = new DnsResponder() };
        box.Appliance = await ApplianceProcess.StartAsync(null, ApplianceProcess.AdminPassword, "--acme-ca-file", box.Tls.CaPath);
        box.Pebble = await PebbleServer.StartAsync(box.Tls, box.Appliance.HttpPort, box.Dns.Port, requireEab: true);
        return box;
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

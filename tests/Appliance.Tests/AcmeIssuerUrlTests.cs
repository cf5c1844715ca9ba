using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Appliance.Acme.Tests.Infrastructure;

namespace Appliance.Tests;

/// <summary>
/// The seed's "the appliance must be able to reach the CA's host on TCP 80 (outbound)" as a pre-flight check, end to
/// end through the published binary: pebble writes an OCSP URL into what it issues; once the appliance holds a certificate
/// from it, the next request from the same server warns in words while nothing answers there, and not once something does.
/// </summary>
public sealed class AcmeIssuerUrlTests : IAsyncLifetime
{
    private readonly int _ocspPort = ExternalTools.FreeTcpPort();
    private AcmeBox _box = null!;

    private string OcspUrl => $"http://127.0.0.1:{_ocspPort}/ocsp";

    public async ValueTask InitializeAsync() => _box = await AcmeBox.StartAsync(ocspResponderUrl: OcspUrl);

    public async ValueTask DisposeAsync()
    {
        if (_box is not null) await _box.DisposeAsync();
    }

    private async Task<JsonElement> RequestAsync(HttpClient client, string serverId, string host)
    {
        var requested = await client.PostAsJsonAsync("acme/certificates", new { serverId, hostname = host, keyType = "ecdsa-p256" });
        Assert.Equal(HttpStatusCode.Created, requested.StatusCode);
        return await Json.ReadAsync(requested);
    }

    private static List<JsonElement> IssuerWarnings(JsonElement answer) =>
        answer.GetProperty("warnings").EnumerateArray().Where(w => w.GetProperty("check").GetString() == "issuer").ToList();

    [Fact]
    public async Task AfterTheFirstCertificateTheIssuersOcspUrlIsCheckedOnItsTcpPortBeforeEveryRequest()
    {
        using var client = await _box.Appliance.LoginAsync();
        var registered = await client.PostAsJsonAsync("acme/servers", new
        {
            type = "custom", directoryUrl = _box.Pebble.DirectoryUrl.ToString(), email = "admin@example.com",
            eabKeyId = PebbleServer.EabKeyId, eabHmacKey = PebbleServer.EabHmacKey,
        });
        Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        var serverId = (await Json.ReadAsync(registered)).GetProperty("id").GetString()!;

        // The first request from a server has no earlier certificate whose URLs could be checked.
        var first = await RequestAsync(client, serverId, "first.issuer.test");
        Assert.Empty(IssuerWarnings(first));
        var deadline = DateTime.UtcNow.AddSeconds(90);
        JsonElement issued;
        do
        {
            await Task.Delay(250);
            issued = await Json.ReadAsync(await client.GetAsync($"acme/certificates/{first.GetProperty("id").GetString()}"));
        } while (issued.GetProperty("status").GetString() is not ("valid" or "error") && DateTime.UtcNow < deadline);
        Assert.True(issued.GetProperty("status").GetString() == "valid", $"{issued}\n{_box.Pebble.Output}");
        var served = OpenSslFixture.RunIn("", null, "s_client", "-connect", $"127.0.0.1:{_box.Appliance.HttpsPort}", "-servername", "first.issuer.test");
        var leaf = X509Certificate2.CreateFromPem(served);
        var aia = leaf.Extensions.OfType<X509AuthorityInformationAccessExtension>().Single();
        Assert.Equal([OcspUrl], aia.EnumerateOcspUris());

        // Nothing listens on the OCSP URL's port: a warning in words, and the request still goes ahead.
        var second = await RequestAsync(client, serverId, "second.issuer.test");
        var warning = Assert.Single(IssuerWarnings(second));
        Assert.Equal("warning", warning.GetProperty("severity").GetString());
        Assert.StartsWith($"This appliance could not reach the issuer's status (OCSP) URL {OcspUrl} on TCP port {_ocspPort} (Connection refused). ",
            warning.GetProperty("message").GetString());

        // Something answers there now: no warning.
        using var responder = new TcpListener(IPAddress.Loopback, _ocspPort);
        responder.Start();
        var third = await RequestAsync(client, serverId, "third.issuer.test");
        Assert.Empty(IssuerWarnings(third));
    }
}

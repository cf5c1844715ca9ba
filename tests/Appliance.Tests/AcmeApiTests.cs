using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Appliance.Acme.Tests.Infrastructure;

namespace Appliance.Tests;

/// <summary>
/// End to end through the published binary: an admin registers pebble (with EAB) as an ACME server, requests an
/// automated certificate, pebble validates http-01 against the appliance's HTTP listener, and the appliance's TLS
/// listener serves the certificate with its chain for that SNI name without a restart; a forced renewal replaces it.
/// </summary>
public sealed class AcmeApiTests : IAsyncLifetime
{
    private AcmeBox _box = null!;
    private ApplianceProcess _appliance => _box.Appliance;
    private PebbleServer _pebble => _box.Pebble;
    private PebbleTls _tls => _box.Tls;
    private DnsResponder _dns => _box.Dns;

    // Alternate chains to choose from: two more roots, each chain with two intermediates.
    public async ValueTask InitializeAsync() => _box = await AcmeBox.StartAsync(
        new Dictionary<string, string> { ["PEBBLE_ALTERNATE_ROOTS"] = "2", ["PEBBLE_CHAIN_LENGTH"] = "3" });

    public async ValueTask DisposeAsync()
    {
        if (_box is not null) await _box.DisposeAsync();
    }

    private object Server(string hmacKey) => new
    {
        type = "custom",
        directoryUrl = _pebble.DirectoryUrl.ToString(),
        email = "admin@example.com",
        eabKeyId = PebbleServer.EabKeyId,
        eabHmacKey = hmacKey,
    };

    private async Task<JsonElement> WaitForAsync(HttpClient client, string id, Func<JsonElement, bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        JsonElement certificate = default;
        while (DateTime.UtcNow < deadline)
        {
            certificate = await Json.ReadAsync(await client.GetAsync($"acme/certificates/{id}"));
            if (done(certificate)) return certificate;
            await Task.Delay(250);
        }
        throw new TimeoutException($"The automated certificate did not get there in 90 s: {certificate}\n{_appliance.Output}\n{_pebble.Output}");
    }

    private X509Certificate2Collection ServedChain(string host)
    {
        var output = OpenSslFixture.RunIn("", null, "s_client", "-connect", $"127.0.0.1:{_appliance.HttpsPort}", "-servername", host, "-showcerts");
        var chain = new X509Certificate2Collection();
        chain.ImportFromPem(output);
        return chain;
    }

    [Fact]
    public async Task AnAdminRegistersPebbleWithEabRequestsACertificateAndTlsServesItWithItsChainThenARenewalReplacesIt()
    {
        using var client = await _appliance.LoginAsync();

        var wrong = await client.PostAsJsonAsync("acme/servers", Server("b10lLJs8l1GPIzsLP0s6pMt8O0XVGnfTaCeROxQM0BIt2XrJMDHJZBM5NuQmQJQH"));
        Assert.Equal(HttpStatusCode.BadRequest, wrong.StatusCode);
        Assert.Equal("application/problem+json", wrong.Content.Headers.ContentType?.MediaType);
        var detail = (await Json.ReadAsync(wrong)).GetProperty("detail").GetString();
        Assert.EndsWith("(unauthorized). Check the EAB key id and HMAC key, or that the account is allowed to request this name.", detail);
        Assert.Equal(0, (await Json.ReadAsync(await client.GetAsync("acme/servers"))).GetArrayLength());

        var registered = await client.PostAsJsonAsync("acme/servers", Server(PebbleServer.EabHmacKey));
        Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        var server = await Json.ReadAsync(registered);
        Assert.Equal(PebbleServer.EabKeyId, server.GetProperty("eabKeyId").GetString());
        Assert.False(server.TryGetProperty("eabHmacKey", out _));

        var host = $"e2e-{Guid.NewGuid():N}"[..12] + ".acme.test";
        var requested = await client.PostAsJsonAsync("acme/certificates", new { serverId = server.GetProperty("id").GetString(), hostname = host, keyType = "ecdsa-p256" });
        Assert.Equal(HttpStatusCode.Created, requested.StatusCode);
        var answer = await Json.ReadAsync(requested);
        var id = answer.GetProperty("id").GetString()!;
        // Pre-flight: the test name resolves only in pebble's DNS, not here, which is a warning; port 80 and the directory pass;
        // pebble's directory names no CAA identities, so CAA is not checked, with a note.
        var warnings = answer.GetProperty("warnings").EnumerateArray().ToList();
        Assert.Equal(["caa", "dns"], warnings.Select(w => w.GetProperty("check").GetString()));
        Assert.Equal($"The CAA records of {host} were not checked: the ACME server's directory names no CAA identities (meta.caaIdentities). "
            + "The CA checks them itself when it validates the name.", warnings[0].GetProperty("message").GetString());
        Assert.StartsWith($"{host} does not resolve here (", warnings[1].GetProperty("message").GetString());

        var issued = await WaitForAsync(client, id, c => c.GetProperty("status").GetString() is "valid" or "error" && !c.GetProperty("running").GetBoolean());
        Assert.True(issued.GetProperty("status").GetString() == "valid", issued.ToString());
        Assert.Equal(JsonValueKind.Null, issued.GetProperty("lastError").ValueKind);
        Assert.Equal(JsonValueKind.String, issued.GetProperty("renewAfter").ValueKind);
        var certificateId = issued.GetProperty("certificateId").GetString()!;

        var stored = await Json.ReadAsync(await client.GetAsync($"certificates/{certificateId}"));
        Assert.Equal("acme", stored.GetProperty("source").GetString());
        Assert.True(stored.GetProperty("hasPrivateKey").GetBoolean());

        var served = ServedChain(host);
        Assert.True(served.Count >= 2, $"openssl received {served.Count} certificates");
        Assert.StartsWith(certificateId, Convert.ToHexStringLower(SHA256.HashData(served[0].RawData)));
        Assert.Equal(served[0].Issuer, served[1].Subject);

        var renew = await client.PostAsync($"acme/certificates/{id}/renew", null);
        Assert.Equal(HttpStatusCode.Accepted, renew.StatusCode);
        var renewed = await WaitForAsync(client, id, c => !c.GetProperty("running").GetBoolean() && c.GetProperty("certificateId").GetString() != certificateId
                                                         || c.GetProperty("status").GetString() == "error");
        Assert.True(renewed.GetProperty("status").GetString() == "valid", renewed.ToString());
        var renewedId = renewed.GetProperty("certificateId").GetString()!;
        Assert.StartsWith(renewedId, Convert.ToHexStringLower(SHA256.HashData(ServedChain(host)[0].RawData)));
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"certificates/{certificateId}")).StatusCode);
    }

    [Fact]
    public async Task ARequestWhoseAcmeDirectoryIsUnreachableIsRefusedWithThePreflightFindingsAndNothingIsStored()
    {
        using var client = await _appliance.LoginAsync();
        var registered = await client.PostAsJsonAsync("acme/servers", Server(PebbleServer.EabHmacKey));
        Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        var serverId = (await Json.ReadAsync(registered)).GetProperty("id").GetString();
        var directory = _pebble.DirectoryUrl;
        await _box.StopPebbleAsync();

        var refused = await client.PostAsJsonAsync("acme/certificates", new { serverId, hostname = "localhost", keyType = "ecdsa-p256" });
        Assert.Equal((HttpStatusCode)422, refused.StatusCode);
        var problem = await Json.ReadAsync(refused);
        Assert.StartsWith($"The certificate for localhost was not requested: The ACME directory {directory} could not be reached (",
            problem.GetProperty("detail").GetString());
        var check = Assert.Single(problem.GetProperty("checks").EnumerateArray());
        Assert.Equal(("directory", "refusal"), (check.GetProperty("check").GetString(), check.GetProperty("severity").GetString()));
        Assert.Equal(0, (await Json.ReadAsync(await client.GetAsync("acme/certificates"))).GetArrayLength());
    }

    private async Task<string> RegisterAsync(HttpClient client, Uri? directoryUrl = null)
    {
        var body = new
        {
            type = "custom", directoryUrl = (directoryUrl ?? _pebble.DirectoryUrl).ToString(), email = "admin@example.com",
            eabKeyId = PebbleServer.EabKeyId, eabHmacKey = PebbleServer.EabHmacKey,
        };
        var registered = await client.PostAsJsonAsync("acme/servers", body);
        Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        return (await Json.ReadAsync(registered)).GetProperty("id").GetString()!;
    }

    private static string UniqueHost(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 9)] + ".acme.test";

    /// <summary>Pebble registered through its directory with caaIdentities ["pebble.test"], and a fresh zone with these CAA records.</summary>
    private async Task<(CaaDirectory Directory, string ServerId, string Zone)> CaaSetupAsync(HttpClient client, params (string Tag, string Value)[] records)
    {
        var directory = await CaaDirectory.StartAsync(_box, "pebble.test");
        var zone = UniqueHost("caa");
        foreach (var (tag, value) in records) _dns.AddCaa(zone, tag, value);
        return (directory, await RegisterAsync(client, directory.DirectoryUrl), zone);
    }

    [Fact]
    public async Task ARequestTheHostnamesCaaRecordsForbidIsRefusedInWordsAndNothingIsOrdered()
    {
        using var client = await _appliance.LoginAsync();
        var (directory, serverId, zone) = await CaaSetupAsync(client, ("issue", "letsencrypt.org"), ("iodef", "mailto:security@example.com"));
        using var _ = directory;
        var host = "www." + zone;

        var refused = await client.PostAsJsonAsync("acme/certificates", new { serverId, hostname = host, keyType = "ecdsa-p256" });
        Assert.Equal((HttpStatusCode)422, refused.StatusCode);
        var problem = await Json.ReadAsync(refused);
        Assert.Equal($"The certificate for {host} was not requested: The CAA records of {zone} (inherited by {host}) allow only letsencrypt.org to issue certificates, "
            + $"not this ACME server (pebble.test). Add the DNS record {zone}. CAA 0 issue \"pebble.test\", or request the certificate from a CA the records allow.",
            problem.GetProperty("detail").GetString());
        var caa = Assert.Single(problem.GetProperty("checks").EnumerateArray(), c => c.GetProperty("check").GetString() == "caa");
        Assert.Equal("refusal", caa.GetProperty("severity").GetString());
        Assert.Equal(0, (await Json.ReadAsync(await client.GetAsync("acme/certificates"))).GetArrayLength());
    }

    [Fact]
    public async Task ARequestTheCaaRecordsAllowIsIssuedWithoutACaaFinding()
    {
        using var client = await _appliance.LoginAsync();
        var (directory, serverId, zone) = await CaaSetupAsync(client, ("issue", "letsencrypt.org"), ("issue", "pebble.test; accounturi=https://127.0.0.1/any"));
        using var _ = directory;
        var host = "shop." + zone;

        var requested = await client.PostAsJsonAsync("acme/certificates", new { serverId, hostname = host, keyType = "ecdsa-p256" });
        Assert.Equal(HttpStatusCode.Created, requested.StatusCode);
        var answer = await Json.ReadAsync(requested);
        Assert.DoesNotContain(answer.GetProperty("warnings").EnumerateArray(), w => w.GetProperty("check").GetString() == "caa");
        Assert.Contains(_dns.Log, q => q.Name == zone && q.Type == 257);
        var issued = await WaitForAsync(client, answer.GetProperty("id").GetString()!, c => c.GetProperty("status").GetString() is "valid" or "error" && !c.GetProperty("running").GetBoolean());
        Assert.True(issued.GetProperty("status").GetString() == "valid", issued.ToString());
    }

    // One chain per appliance: the store derives each certificate's chain from all it holds, so the cross-signed tops of
    // two chains for the same intermediate would both be candidates (see the report on the preferred chain).
    [Theory]
    [InlineData(2)]
    [InlineData(null)]
    public async Task ThePreferredChainIsTheOneStoredAndServedAndWithoutOneTheDefaultChainIs(int? preferredRootIndex)
    {
        using var client = await _appliance.LoginAsync();
        var serverId = await RegisterAsync(client);
        using var http = _box.PebbleHttpClient();
        var preferredChain = preferredRootIndex is { } index ? await _pebble.RootNameAsync(index, http) : null;
        var expectedRoot = preferredChain ?? await _pebble.RootNameAsync(0, http);
        var host = UniqueHost("chain");

        var requested = await client.PostAsJsonAsync("acme/certificates", new { serverId, hostname = host, keyType = "ecdsa-p256", preferredChain });
        Assert.Equal(HttpStatusCode.Created, requested.StatusCode);
        var answer = await Json.ReadAsync(requested);
        Assert.Equal(preferredChain, answer.GetProperty("preferredChain").GetString());
        var issued = await WaitForAsync(client, answer.GetProperty("id").GetString()!, c => c.GetProperty("status").GetString() is "valid" or "error" && !c.GetProperty("running").GetBoolean());
        Assert.True(issued.GetProperty("status").GetString() == "valid", issued.ToString());
        Assert.Equal(preferredChain, issued.GetProperty("preferredChain").GetString());

        var stored = await Json.ReadAsync(await client.GetAsync($"certificates/{issued.GetProperty("certificateId").GetString()}"));
        var topId = stored.GetProperty("chain").EnumerateArray().Last().GetString();
        var top = await Json.ReadAsync(await client.GetAsync($"certificates/{topId}"));
        Assert.Equal($"CN={expectedRoot}", top.GetProperty("issuer").GetString());
        Assert.Equal(expectedRoot, ServedChain(host)[^1].GetNameInfo(X509NameType.SimpleName, forIssuer: true));
    }

    [Fact]
    public async Task TheHttpListenerAnswersUnknownChallengeTokensWith404()
    {
        using var http = new HttpClient();
        foreach (var path in new[] { "/.well-known/acme-challenge/unknown-token", "/.well-known/acme-challenge" })
        {
            var response = await http.GetAsync($"http://127.0.0.1:{_appliance.HttpPort}{path}");
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }
    }
}

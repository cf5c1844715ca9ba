using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Appliance.Tests;

/// <summary>An appliance listening dual-stack on [::], so each loopback address is a distinct local address.</summary>
public sealed class DualStackApplianceFixture : IAsyncLifetime
{
    public ApplianceProcess Appliance { get; private set; } = null!;
    public async ValueTask InitializeAsync() => Appliance = await ApplianceProcess.StartAsync(null, ApplianceProcess.AdminPassword, "--bind", "::");
    public async ValueTask DisposeAsync() => await Appliance.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class TlsCollection : ICollectionFixture<DualStackApplianceFixture>, ICollectionFixture<OpenSslFixture>
{
    public const string Name = "tls";
}

[Collection(TlsCollection.Name)]
public sealed class TlsSelectionTests(DualStackApplianceFixture fixture, OpenSslFixture pki)
{
    private ApplianceProcess Appliance => fixture.Appliance;

    private async Task<string> ImportAsync(HttpClient client, string stem, string host, string[] names, int days = 90)
    {
        pki.MakeLeaf(stem, host, names, days: days);
        return await pki.ImportLeafWithChainAsync(client, stem, host);
    }

    /// <summary>The subject CN of the certificate served at <paramref name="address"/> for <paramref name="sni"/> (null: no SNI), via openssl.</summary>
    private string Served(string address, string? sni, params string[] extra)
    {
        var connect = address.Contains(':') ? $"[{address}]:{Appliance.HttpsPort}" : $"{address}:{Appliance.HttpsPort}";
        var args = new List<string> { "s_client", "-connect", connect };
        if (sni is null) args.Add("-noservername"); else args.AddRange(["-servername", sni]);
        args.AddRange(extra);
        var output = RunOpenSsl(args);
        var subject = output.Split('\n').FirstOrDefault(l => l.StartsWith("subject=", StringComparison.Ordinal))
            ?? throw new InvalidOperationException("no certificate served:\n" + output);
        return subject.Replace(" = ", "=").Split("CN=")[1].Split(',')[0].Trim();
    }

    /// <summary>The first PEM certificate in a text (s_client prints the server's leaf).</summary>
    private static string LeafPem(string text)
    {
        var start = text.IndexOf("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal);
        var end = text.IndexOf("-----END CERTIFICATE-----", start, StringComparison.Ordinal);
        Assert.True(start >= 0 && end > start, "no certificate in:\n" + text);
        return text[start..end];
    }

    private static string RunOpenSsl(IEnumerable<string> args)
    {
        var info = new ProcessStartInfo("openssl") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit(30_000);
        return output;
    }

    private async Task BindAsync(HttpClient client, string address, string? certificateId, bool appliance = true, bool site = true)
    {
        var response = await client.PutAsJsonAsync("network/addresses", new[] { new { address, certificateId, applianceAccess = appliance, siteAccess = site } });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    private async Task<(string Id, string Rule)> WhichAsync(HttpClient client, string address, string? serverName)
    {
        var json = await Json.ReadAsync(await client.GetAsync($"network/selection?address={address}&serverName={serverName}"));
        return (json.GetProperty("certificateId").GetString()!, json.GetProperty("rule").GetString()!);
    }

    [Fact]
    public async Task EachPrecedenceRuleChoosesAsDesignedAndTheApiAgreesWithTheHandshake()
    {
        using var client = await Appliance.LoginAsync();
        var exact = await ImportAsync(client, "p-exact", "www.rules.test", ["www.rules.test"]);
        var wildcard = await ImportAsync(client, "p-wild", "wild.rules.test", ["*.rules.test"]);
        var assigned = await ImportAsync(client, "p-addr", "assigned.rules.test", ["assigned.rules.test"]);
        var @default = await ImportAsync(client, "p-default", "default.rules.test", ["default.rules.test"]);
        await BindAsync(client, "127.0.0.2", assigned);

        // 1. exact, then one-label wildcard
        Assert.Equal("www.rules.test", Served("127.0.0.3", "WWW.Rules.Test."));
        Assert.Equal((exact, "exact"), await WhichAsync(client, "127.0.0.3", "www.rules.test"));
        Assert.Equal("wild.rules.test", Served("127.0.0.3", "api.rules.test"));
        Assert.Equal((wildcard, "wildcard"), await WhichAsync(client, "127.0.0.3", "api.rules.test"));
        // 2. no SNI or no match: the address's certificate
        Assert.Equal("assigned.rules.test", Served("127.0.0.2", null));
        Assert.Equal("assigned.rules.test", Served("127.0.0.2", "a.b.rules.test"));
        Assert.Equal((assigned, "address"), await WhichAsync(client, "127.0.0.2", "nothing.example"));
        // 4. else the factory certificate
        var factory = (await WhichAsync(client, "127.0.0.3", null));
        Assert.Equal("factory", factory.Rule);
        // 3. else the default certificate, at once after it is set
        Assert.Equal(HttpStatusCode.NoContent, (await client.PutAsJsonAsync("certificates/default", new { id = @default })).StatusCode);
        Assert.Equal("default.rules.test", Served("127.0.0.3", null));
        Assert.Equal((@default, "default"), await WhichAsync(client, "127.0.0.3", "unknown.example"));
        Assert.Equal("assigned.rules.test", Served("127.0.0.2", null));
        if (System.Net.Sockets.Socket.OSSupportsIPv6) Assert.Equal("default.rules.test", Served("::1", null));
        Assert.Equal(HttpStatusCode.NoContent, (await client.PutAsJsonAsync("certificates/default", new { id = (string?)null })).StatusCode);
        Assert.Equal(factory.Id, (await WhichAsync(client, "127.0.0.3", null)).Id);
    }

    [Fact]
    public async Task AmongCertificatesForOneNameTheOneBoundToTheAddressWinsThenTheLatestExpiry()
    {
        using var client = await Appliance.LoginAsync();
        var shortLived = await ImportAsync(client, "two-short", "same.pref.test", ["same.pref.test"], days: 10);
        await ImportAsync(client, "two-long", "same.pref.test", ["same.pref.test"], days: 300);
        await BindAsync(client, "127.0.0.4", shortLived);
        var bound = RunOpenSsl(["s_client", "-connect", $"127.0.0.4:{Appliance.HttpsPort}", "-servername", "same.pref.test"]);
        var other = RunOpenSsl(["s_client", "-connect", $"127.0.0.5:{Appliance.HttpsPort}", "-servername", "same.pref.test"]);
        Assert.Equal(LeafPem(File.ReadAllText(pki.Path("two-short.crt"))), LeafPem(bound));
        Assert.Equal(LeafPem(File.ReadAllText(pki.Path("two-long.crt"))), LeafPem(other));
    }

    [Fact]
    public async Task TheChainIsSentAndOldProtocolsAndWeakSuitesAreRefused()
    {
        using var client = await Appliance.LoginAsync();
        await ImportAsync(client, "chain-sent", "chain.sent.test", ["chain.sent.test"]);
        var output = RunOpenSsl(["s_client", "-connect", $"127.0.0.1:{Appliance.HttpsPort}", "-servername", "chain.sent.test", "-showcerts",
            "-CAfile", pki.Path("root.crt"), "-verify_return_error"]);
        Assert.Contains("Verify return code: 0 (ok)", output);
        Assert.Contains("CN=Test Intermediate CA", output.Replace(" = ", "="));

        var tls11 = RunOpenSsl(["s_client", "-connect", $"127.0.0.1:{Appliance.HttpsPort}", "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"]);
        Assert.Contains("no peer certificate available", tls11);
        Assert.Contains("Cipher is (NONE)", tls11);
        var weak = RunOpenSsl(["s_client", "-connect", $"127.0.0.1:{Appliance.HttpsPort}", "-tls1_2", "-cipher", "AES128-SHA:AES256-SHA:ECDHE-RSA-AES128-SHA"]);
        Assert.Contains("no peer certificate available", weak);
        Assert.Contains("Cipher is (NONE)", weak);
        var strong = RunOpenSsl(["s_client", "-connect", $"127.0.0.1:{Appliance.HttpsPort}", "-tls1_2", "-servername", "chain.sent.test"]);
        Assert.Matches("Cipher is ECDHE-(RSA|ECDSA)-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)", strong);
    }

    [Fact]
    public async Task ApplianceAccessCanBeSwitchedOffPerAddressButNotForTheLastOne()
    {
        using var client = await Appliance.LoginAsync();
        await BindAsync(client, "127.0.0.6", null, appliance: false, site: true);
        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator };
        using var raw = new HttpClient(handler);
        Assert.Equal(HttpStatusCode.NotFound, (await raw.GetAsync($"https://127.0.0.6:{Appliance.HttpsPort}/appliance/api/v1/status")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await raw.GetAsync($"https://127.0.0.7:{Appliance.HttpsPort}/appliance/api/v1/status")).StatusCode);
        var landing = await raw.GetAsync($"https://127.0.0.6:{Appliance.HttpsPort}/");
        Assert.Equal(HttpStatusCode.OK, landing.StatusCode);
        Assert.Contains("<h1>127.0.0.6</h1>", await landing.Content.ReadAsStringAsync());

        await BindAsync(client, "127.0.0.6", null, appliance: true, site: false);
        Assert.Equal(HttpStatusCode.NotFound, (await raw.GetAsync($"https://127.0.0.6:{Appliance.HttpsPort}/")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await raw.GetAsync($"https://127.0.0.6:{Appliance.HttpsPort}/appliance/api/v1/status")).StatusCode);

        // Switching it off everywhere, including the address this admin uses, is refused and changes nothing.
        var all = await Json.ReadAsync(await client.GetAsync("network/addresses"));
        var everything = all.EnumerateArray().Select(a => new { address = a.GetProperty("address").GetString(), certificateId = (string?)null, applianceAccess = false, siteAccess = true }).ToList();
        var refused = await client.PutAsJsonAsync("network/addresses", everything);
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Contains("you are connected through it", (await Json.ReadAsync(refused)).GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("status")).StatusCode);
    }

    [Fact]
    public async Task CertificateChangesUnderLoadFailNoHandshakeAndShowAtOnce()
    {
        using var client = await Appliance.LoginAsync();
        using var stop = new CancellationTokenSource();
        var failures = 0;
        var handshakes = 0;
        var load = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    using var tcp = new System.Net.Sockets.TcpClient();
                    await tcp.ConnectAsync(IPAddress.Loopback, Appliance.HttpsPort);
                    using var tls = new System.Net.Security.SslStream(tcp.GetStream(), false, (_, _, _, _) => true);
                    await tls.AuthenticateAsClientAsync("load.reload.test");
                    Interlocked.Increment(ref handshakes);
                }
                catch (Exception)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        });
        for (var round = 0; round < 3; round++)
        {
            var id = await ImportAsync(client, $"reload-{round}", "load.reload.test", ["load.reload.test"], days: 100 + round);
            Assert.Equal("load.reload.test", Served("127.0.0.1", "load.reload.test"));
            await BindAsync(client, "127.0.0.8", id);
            Assert.Equal("load.reload.test", Served("127.0.0.8", null));
            Assert.Equal(HttpStatusCode.NoContent, (await client.PutAsJsonAsync("certificates/default", new { id })).StatusCode);
            await BindAsync(client, "127.0.0.8", null);
            Assert.Equal(HttpStatusCode.NoContent, (await client.PutAsJsonAsync("certificates/default", new { id = (string?)null })).StatusCode);
            Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"certificates/{id}")).StatusCode);
            Assert.NotEqual("load.reload.test", Served("127.0.0.1", "load.reload.test"));
        }
        stop.Cancel();
        await load;
        Assert.True(handshakes > 20, $"only {handshakes} handshakes ran");
        Assert.Equal(0, failures);
    }
}

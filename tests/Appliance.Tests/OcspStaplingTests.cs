using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Appliance.Tests;

/// <summary>OCSP stapling against a real responder (openssl, delegated signer), checked with `openssl s_client -status`.</summary>
[Collection(TlsCollection.Name)]
public sealed class OcspStaplingTests(DualStackApplianceFixture fixture, OpenSslFixture pki)
{
    private static readonly TimeSpan FetchWait = TimeSpan.FromSeconds(20);
    private ApplianceProcess Appliance => fixture.Appliance;

    [Fact]
    public async Task AResponseFromTheNamedResponderIsStapledAndShownOnTheCertificate()
    {
        await using var responder = OcspResponder.Start(pki, "good");
        var stem = pki.MakeLeaf("ocsp-good", "good.ocsp.test", ["good.ocsp.test"], ocspResponder: responder.Url);
        responder.Good(stem);
        using var client = await Appliance.LoginAsync();
        var id = await ImportAsync(client, stem, "good.ocsp.test");

        var output = await PollAsync(() => Status("good.ocsp.test"), o => o.Contains("Cert Status: good", StringComparison.Ordinal));
        Assert.Contains("OCSP Response Status: successful", output);
        Assert.Contains("Responder Id: C = US, O = Test PKI, CN = Test OCSP Responder", output);
        // TLS 1.2 carries it in a CertificateStatus message rather than in the Certificate message (RFC 8446 4.4.2.1).
        var tls12 = Status("good.ocsp.test", "-tls1_2");
        Assert.Contains("Cert Status: good", tls12);
        Assert.Contains("Protocol  : TLSv1.2", tls12);
        var state = await PollAsync(async () => await OcspStaplingOf(client, id), s => s?.StartsWith("stapled until ", StringComparison.Ordinal) == true);
        Assert.Matches(@"^stapled until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$", state);
    }

    [Fact]
    public async Task WithTheResponderDownHandshakesSucceedAtOnceWithoutAStaple()
    {
        var port = ClosedLoopbackPort();
        var stem = pki.MakeLeaf("ocsp-down", "down.ocsp.test", ["down.ocsp.test"], ocspResponder: $"http://127.0.0.1:{port}/");
        using var client = await Appliance.LoginAsync();
        var id = await ImportAsync(client, stem, "down.ocsp.test");

        for (var i = 0; i < 3; i++)
        {
            var watch = Stopwatch.StartNew();
            var output = Status("down.ocsp.test");
            Assert.Contains("OCSP response: no response sent", output);
            Assert.Contains("subject=C = US, O = Example, CN = down.ocsp.test", output);
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(3), $"the handshake took {watch.Elapsed}");
        }
        var state = await PollAsync(async () => await OcspStaplingOf(client, id), s => s?.StartsWith("not stapled: ", StringComparison.Ordinal) == true);
        Assert.StartsWith($"not stapled: responder http://127.0.0.1:{port}/ unreachable: ", state);
    }

    [Fact]
    public async Task ARevokedStatusIsNotStapledAsNginxDoesAndIsShownOnTheCertificate()
    {
        await using var responder = OcspResponder.Start(pki, "revoked");
        var stem = pki.MakeLeaf("ocsp-revoked", "revoked.ocsp.test", ["revoked.ocsp.test"], ocspResponder: responder.Url);
        responder.Revoked(stem);
        using var client = await Appliance.LoginAsync();
        var id = await ImportAsync(client, stem, "revoked.ocsp.test");

        var state = await PollAsync(async () => await OcspStaplingOf(client, id), s => s?.StartsWith("not stapled: ", StringComparison.Ordinal) == true);
        var serial = OpenSslFixture.Run("x509", "-in", pki.Path(stem + ".crt"), "-noout", "-serial").Trim().Split('=')[1];
        Assert.Matches($"^not stapled: the responder says serial 0*{serial.TrimStart('0')} is revoked$", state);
        Assert.Contains("OCSP response: no response sent", Status("revoked.ocsp.test"));
    }

    [Fact]
    public async Task AResponseSignedByNeitherTheIssuerNorItsDelegatedResponderIsNotStapled()
    {
        await using var responder = OcspResponder.Start(pki, "forged", signer: "orphan");
        var stem = pki.MakeLeaf("ocsp-forged", "forged.ocsp.test", ["forged.ocsp.test"], ocspResponder: responder.Url);
        responder.Good(stem);
        using var client = await Appliance.LoginAsync();
        var id = await ImportAsync(client, stem, "forged.ocsp.test");

        var state = await PollAsync(async () => await OcspStaplingOf(client, id), s => s?.StartsWith("not stapled: ", StringComparison.Ordinal) == true);
        Assert.StartsWith("not stapled: the response's signature does not verify against the issuer 'CN=Test Intermediate CA, O=Test PKI, C=US' or a responder it delegated to: ", state);
        Assert.Equal(1, responder.Answered);
        Assert.Contains("OCSP response: no response sent", Status("forged.ocsp.test"));
    }

    [Fact]
    public async Task ACertificateNamingNoResponderHasNoStaplingState()
    {
        var stem = pki.MakeLeaf("ocsp-none", "none.ocsp.test", ["none.ocsp.test"]);
        // A witness naming a responder, imported after it: once the witness is stapled, a round has looked at both.
        await using var responder = OcspResponder.Start(pki, "witness");
        var witness = pki.MakeLeaf("ocsp-witness", "witness.ocsp.test", ["witness.ocsp.test"], ocspResponder: responder.Url);
        responder.Good(witness);
        using var client = await Appliance.LoginAsync();
        var id = await ImportAsync(client, stem, "none.ocsp.test");
        var witnessId = await ImportAsync(client, witness, "witness.ocsp.test");

        await PollAsync(async () => await OcspStaplingOf(client, witnessId), s => s?.StartsWith("stapled until ", StringComparison.Ordinal) == true);
        Assert.Null(await OcspStaplingOf(client, id));
        Assert.Contains("OCSP response: no response sent", Status("none.ocsp.test"));
    }

    private Task<string> ImportAsync(HttpClient client, string stem, string host) => pki.ImportLeafWithChainAsync(client, stem, host);

    private static async Task<string?> OcspStaplingOf(HttpClient client, string id)
    {
        var json = await Json.ReadAsync(await client.GetAsync($"certificates/{id}"));
        return json.GetProperty("ocspStapling").GetString();
    }

    private static async Task<T> PollAsync<T>(Func<Task<T>> read, Func<T, bool> done)
    {
        var deadline = DateTime.UtcNow + FetchWait;
        while (true)
        {
            var value = await read();
            if (done(value)) return value;
            if (DateTime.UtcNow > deadline) throw new Xunit.Sdk.XunitException($"still not there after {FetchWait.TotalSeconds} s: {value}");
            await Task.Delay(250);
        }
    }

    private static Task<string> PollAsync(Func<string> read, Func<string, bool> done) => PollAsync(() => Task.FromResult(read()), done);

    /// <summary>`openssl s_client -status` output (handshake, certificate status, then quit) for the name at 127.0.0.1.</summary>
    private string Status(string serverName, params string[] extra)
    {
        var info = new ProcessStartInfo("openssl") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var a in new[] { "s_client", "-connect", $"127.0.0.1:{Appliance.HttpsPort}", "-servername", serverName, "-status" }.Concat(extra))
            info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(15_000), "openssl s_client did not finish");
        return stdout.Result + stderr.Result;
    }

    private static int ClosedLoopbackPort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}

using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Appliance.Tests;

/// <summary>
/// The seed's section 1, replication between two appliances: export from one running appliance (certificate, key,
/// chain, passphrase), import into a second, and the second answers by SNI with the same chain for the same names.
/// Two appliances of their own, so the shared one's certificates cannot answer in their place.
/// </summary>
public sealed class ReplicationTests(OpenSslFixture pki) : IClassFixture<OpenSslFixture>
{
    private const string Passphrase = "replicate Ä-1 passphrase";

    [Fact]
    public async Task ACertificateExportedWithKeyAndChainFromOneApplianceIsServedWithTheSameChainByTheSecondForTheSameNames()
    {
        string host = $"replica-{Guid.NewGuid():N}"[..16] + ".example";
        string[] names = [host, "www." + host];
        pki.MakeLeaf("replica", host, names);
        await using var first = await ApplianceProcess.StartAsync();
        await using var second = await ApplianceProcess.StartAsync();
        using var firstClient = await first.LoginAsync();
        using var secondClient = await second.LoginAsync();
        string id = await pki.ImportLeafWithChainAsync(firstClient, "replica", host);

        var export = await firstClient.PostAsJsonAsync("certificates/export",
            new { ids = new[] { id }, certificate = true, privateKey = true, chain = true, passphrase = Passphrase, format = "pkcs12" });
        Assert.Equal(HttpStatusCode.OK, export.StatusCode);
        byte[] pfx = await export.Content.ReadAsByteArrayAsync();

        using var form = new MultipartFormDataContent();
        var part = new ByteArrayContent(pfx);
        part.Headers.ContentType = new MediaTypeHeaderValue("application/x-pkcs12");
        form.Add(part, "file", "replica.p12");
        form.Add(new StringContent(Passphrase), "password");
        var import = await secondClient.PostAsync("certificates/import", form);
        string imported = await import.Content.ReadAsStringAsync();
        Assert.True(import.StatusCode == HttpStatusCode.OK, imported);
        var leaf = JsonDocument.Parse(imported).RootElement.GetProperty("certificates").EnumerateArray().Single(c => c.GetProperty("commonName").GetString() == host);
        Assert.Equal(id, leaf.GetProperty("id").GetString());
        Assert.True(leaf.GetProperty("hasPrivateKey").GetBoolean());
        Assert.True(leaf.GetProperty("chainComplete").GetBoolean());

        string[] expected = [Base64Of(File.ReadAllText(pki.Path("replica.crt"))), Base64Of(File.ReadAllText(pki.Path("intermediate.crt")))];
        foreach (string name in names)
        {
            var fromFirst = ServedChain(first, name);
            var fromSecond = ServedChain(second, name);
            Assert.Equal(expected, fromFirst);
            Assert.Equal(fromFirst, fromSecond);
        }

        // Not the factory certificate answering for any name: an unknown name gets another leaf from the second.
        Assert.NotEqual(expected[0], ServedChain(second, "unknown." + host)[0]);
    }

    /// <summary>The certificates the appliance sends for <paramref name="serverName"/>, leaf first, as Base64 DER (openssl s_client -showcerts).</summary>
    private static List<string> ServedChain(ApplianceProcess appliance, string serverName)
    {
        string output = OpenSslFixture.RunIn("", null, "s_client", "-connect", $"127.0.0.1:{appliance.HttpsPort}", "-servername", serverName, "-showcerts");
        var chain = new List<string>();
        int at = 0;
        while ((at = output.IndexOf("-----BEGIN CERTIFICATE-----", at, StringComparison.Ordinal)) >= 0)
        {
            int end = output.IndexOf("-----END CERTIFICATE-----", at, StringComparison.Ordinal);
            chain.Add(Base64Of(output[at..(end + "-----END CERTIFICATE-----".Length)]));
            at = end;
        }

        Assert.True(chain.Count > 0, $"no certificate served for {serverName}:\n{output}");
        return chain;
    }

    private static string Base64Of(string pem) =>
        string.Concat(pem.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith("-----", StringComparison.Ordinal)));
}

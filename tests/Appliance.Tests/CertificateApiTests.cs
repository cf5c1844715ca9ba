using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;

namespace Appliance.Tests;

[Collection(ApplianceCollection.Name)]
public sealed class CertificateApiTests(ApplianceFixture fixture, OpenSslFixture pki)
{
    private const string ChainWarning = "The certificate chain appears to be missing one or more certificate authorities and does not appear to terminate in a self-signed certificate";
    private ApplianceProcess Appliance => fixture.Appliance;

    private static MultipartFormDataContent Upload(string? password, params (string Name, byte[] Content)[] files)
    {
        var form = new MultipartFormDataContent();
        foreach (var (name, content) in files)
        {
            var part = new ByteArrayContent(content);
            part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            form.Add(part, "file", name);
        }
        if (password is not null) form.Add(new StringContent(password), "password");
        return form;
    }

    private (string Name, byte[] Content) FileOf(string name) => (name, File.ReadAllBytes(pki.Path(name)));

    private static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 9)] + ".test.example";

    private static JsonElement ById(JsonElement list, string id) => list.EnumerateArray().Single(c => c.GetProperty("id").GetString() == id);

    private static string Fingerprint(string path) =>
        Convert.ToHexStringLower(SHA256.HashData(X509CertificateLoader.LoadCertificateFromFile(path).RawData));

    [Fact]
    public async Task TheFactoryCertificateIsListedAndCanBeNeitherDeletedNorDefault()
    {
        using var client = await Appliance.LoginAsync();
        var factory = (await Json.ReadAsync(await client.GetAsync("certificates"))).EnumerateArray().Single(c => c.GetProperty("isFactory").GetBoolean());
        Assert.Equal("factory", factory.GetProperty("source").GetString());
        Assert.True(factory.GetProperty("hasPrivateKey").GetBoolean());
        Assert.True(factory.GetProperty("isSelfSigned").GetBoolean());
        var id = factory.GetProperty("id").GetString();

        var delete = await client.DeleteAsync($"certificates/{id}");
        Assert.Equal(HttpStatusCode.Conflict, delete.StatusCode);
        Assert.Contains("factory certificate", (await Json.ReadAsync(delete)).GetProperty("detail").GetString());

        var setDefault = await client.PutAsJsonAsync("certificates/default", new { id });
        Assert.Equal(HttpStatusCode.BadRequest, setDefault.StatusCode);
        Assert.Contains("cannot be the default", (await Json.ReadAsync(setDefault)).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task ALeafWithItsKeyIntermediateAndRootImportsAsACompleteChainWithTheRightFacts()
    {
        var host = Unique("chain");
        pki.MakeLeaf("chain-leaf", host, [host, "www." + host, "192.0.2.10"]);
        using var client = await Appliance.LoginAsync();
        var response = await client.PostAsync("certificates/import",
            Upload(null, FileOf("chain-leaf.crt"), FileOf("chain-leaf.key"), FileOf("intermediate.crt"), FileOf("root.crt")));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var result = await Json.ReadAsync(response);
        var leaf = result.GetProperty("certificates").EnumerateArray().Single(c => c.GetProperty("commonName").GetString() == host);

        Assert.Equal(Fingerprint(pki.Path("chain-leaf.crt")), leaf.GetProperty("sha256Fingerprint").GetString());
        Assert.Equal([host, "www." + host, "192.0.2.10"], leaf.GetProperty("subjectAlternativeNames").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("RSA", leaf.GetProperty("keyAlgorithm").GetString());
        Assert.Equal(2048, leaf.GetProperty("keySize").GetInt32());
        Assert.True(leaf.GetProperty("hasPrivateKey").GetBoolean());
        Assert.True(leaf.GetProperty("chainComplete").GetBoolean());
        Assert.Equal(JsonValueKind.Null, leaf.GetProperty("chainWarning").ValueKind);
        Assert.Equal(3, leaf.GetProperty("chain").GetArrayLength());
        Assert.False(leaf.GetProperty("isSelfSigned").GetBoolean());
        Assert.Equal("imported", leaf.GetProperty("source").GetString());
        var serial = OpenSslFixture.Run("x509", "-in", pki.Path("chain-leaf.crt"), "-noout", "-serial").Trim().Split('=')[1];
        Assert.Equal(serial.ToLowerInvariant().TrimStart('0'), leaf.GetProperty("serialNumber").GetString()!.TrimStart('0'));
        var key = Assert.Single(result.GetProperty("keys").EnumerateArray());
        Assert.Equal(leaf.GetProperty("id").GetString(), key.GetProperty("certificateId").GetString());

        // Importing the same files again gives the same entries.
        var again = await Json.ReadAsync(await client.PostAsync("certificates/import",
            Upload(null, FileOf("chain-leaf.crt"), FileOf("chain-leaf.key"), FileOf("intermediate.crt"), FileOf("root.crt"))));
        Assert.Equal(leaf.GetProperty("id").GetString(), again.GetProperty("certificates").EnumerateArray().Single(c => c.GetProperty("commonName").GetString() == host).GetProperty("id").GetString());
        var all = await Json.ReadAsync(await client.GetAsync("certificates"));
        Assert.Single(all.EnumerateArray(), c => c.GetProperty("commonName").GetString() == host);
    }

    [Fact]
    public async Task AKeyUploadedAloneWaitsForItsCertificateAndJoinsIt()
    {
        var host = Unique("later");
        pki.MakeLeaf("later", host, [host], "ec:" + pki.Path("p256.param"), issuer: "orphan");
        using var client = await Appliance.LoginAsync();
        var first = await Json.ReadAsync(await client.PostAsync("certificates/import", Upload(null, FileOf("later.key"))));
        var key = Assert.Single(first.GetProperty("keys").EnumerateArray());
        Assert.Equal(JsonValueKind.Null, key.GetProperty("certificateId").ValueKind);
        Assert.Equal("ECDSA", key.GetProperty("keyAlgorithm").GetString());
        Assert.Contains(first.GetProperty("warnings").EnumerateArray(), w => w.GetString()!.Contains("waits for its certificate"));

        var second = await Json.ReadAsync(await client.PostAsync("certificates/import", Upload(null, FileOf("later.crt"))));
        var certificate = Assert.Single(second.GetProperty("certificates").EnumerateArray());
        Assert.True(certificate.GetProperty("hasPrivateKey").GetBoolean());
        Assert.Equal(ChainWarning, certificate.GetProperty("chainWarning").GetString());
        Assert.False(certificate.GetProperty("chainComplete").GetBoolean());
    }

    [Fact]
    public async Task ARequestVerifiesWithOpenSslAndTheSignedCertificateCompletesIt()
    {
        var host = Unique("csr");
        using var client = await Appliance.LoginAsync();
        var created = await client.PostAsJsonAsync("certificate-requests", new
        {
            friendlyName = host + " 2026-11",
            key = "rsa-3072",
            subject = new { country = "de", state = "Berlin", locality = "Berlin", organization = "Example GmbH", organizationalUnit = "IT", commonName = host },
            subjectAlternativeNames = new[] { "*." + host },
            selfSigned = false,
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var request = await Json.ReadAsync(created);
        Assert.Equal([host, "*." + host], request.GetProperty("subjectAlternativeNames").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("pending", request.GetProperty("status").GetString());
        var id = request.GetProperty("id").GetString()!;
        var detail = await Json.ReadAsync(await client.GetAsync($"certificate-requests/{id}"));
        var csr = pki.Path(id + ".csr");
        File.WriteAllText(csr, detail.GetProperty("requestData").GetString());
        var verified = OpenSslFixture.Run("req", "-in", csr, "-verify", "-noout", "-text");
        Assert.Contains("verify OK", verified);
        Assert.Contains("C=DE", verified.Replace(" = ", "="));

        pki.SignRequest(csr, pki.Path(id + ".crt"), [host, "*." + host]);
        var imported = await Json.ReadAsync(await client.PostAsync("certificates/import", Upload(null, FileOf(id + ".crt"))));
        var certificate = Assert.Single(imported.GetProperty("certificates").EnumerateArray());
        Assert.True(certificate.GetProperty("hasPrivateKey").GetBoolean());
        Assert.Equal(host + " 2026-11", certificate.GetProperty("friendlyName").GetString());
        Assert.Equal(3072, certificate.GetProperty("keySize").GetInt32());

        var after = await Json.ReadAsync(await client.GetAsync($"certificate-requests/{id}"));
        Assert.Equal("issued", after.GetProperty("status").GetString());
        Assert.Equal(certificate.GetProperty("id").GetString(), after.GetProperty("certificateId").GetString());
    }

    [Fact]
    public async Task ARenewalWithTheSameKeyTakesOverTheDefaultAndTheOldOneStays()
    {
        var host = Unique("renew");
        pki.MakeLeaf("renew-old", host, [host], days: 30);
        using var client = await Appliance.LoginAsync();
        var old = await Json.ReadAsync(await client.PostAsync("certificates/import",
            Upload(null, FileOf("renew-old.crt"), FileOf("renew-old.key"), FileOf("intermediate.crt"))));
        var oldId = old.GetProperty("certificates").EnumerateArray().Single(c => c.GetProperty("commonName").GetString() == host).GetProperty("id").GetString();
        Assert.Equal(HttpStatusCode.NoContent, (await client.PutAsJsonAsync("certificates/default", new { id = oldId })).StatusCode);

        pki.SignRequest(pki.Path("renew-old.csr"), pki.Path("renew-new.crt"), [host], days: 400);
        var renewed = await Json.ReadAsync(await client.PostAsync("certificates/import", Upload(null, FileOf("renew-new.crt"))));
        var newCertificate = Assert.Single(renewed.GetProperty("certificates").EnumerateArray());
        Assert.True(newCertificate.GetProperty("isDefault").GetBoolean());
        Assert.Contains(renewed.GetProperty("warnings").EnumerateArray(), w => w.GetString()!.Contains("renews") && w.GetString()!.Contains("the default certificate"));

        var list = await Json.ReadAsync(await client.GetAsync("certificates"));
        Assert.False(ById(list, oldId!).GetProperty("isDefault").GetBoolean());

        // The default cannot be deleted; the old one can.
        var refused = await client.DeleteAsync($"certificates/{newCertificate.GetProperty("id").GetString()}");
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Contains("it is the default certificate", (await Json.ReadAsync(refused)).GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"certificates/{oldId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await client.PutAsJsonAsync("certificates/default", new { id = (string?)null })).StatusCode);
    }

    [Fact]
    public async Task ASelfSignedCertificateIsCreatedButCannotBeTheDefault()
    {
        var host = Unique("self");
        using var client = await Appliance.LoginAsync();
        var created = await client.PostAsJsonAsync("certificate-requests", new
        {
            friendlyName = host,
            key = "ecdsa-p384",
            subject = new { country = "US", commonName = host },
            subjectAlternativeNames = new[] { "2001:db8::1" },
            selfSigned = true,
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var certificate = await Json.ReadAsync(created);
        Assert.True(certificate.GetProperty("isSelfSigned").GetBoolean());
        Assert.Equal("selfSigned", certificate.GetProperty("source").GetString());
        Assert.Equal("ECDSA", certificate.GetProperty("keyAlgorithm").GetString());
        Assert.Equal(384, certificate.GetProperty("keySize").GetInt32());
        Assert.Equal([host, "2001:db8::1"], certificate.GetProperty("subjectAlternativeNames").EnumerateArray().Select(e => e.GetString()));
        var refused = await client.PutAsJsonAsync("certificates/default", new { id = certificate.GetProperty("id").GetString() });
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("self-signed", (await Json.ReadAsync(refused)).GetProperty("detail").GetString());

        var duplicate = await client.PostAsJsonAsync("certificate-requests", new { friendlyName = host, key = "rsa-2048", subject = new { commonName = host }, selfSigned = true });
        Assert.Equal(HttpStatusCode.Conflict, duplicate.StatusCode);
    }

    [Theory]
    [InlineData("XX", "country")]
    [InlineData("USA", "country")]
    public async Task ARequestWithABadCountryIsRefused(string country, string word)
    {
        using var client = await Appliance.LoginAsync();
        var response = await client.PostAsJsonAsync("certificate-requests", new { friendlyName = Unique("bad"), key = "rsa-2048", subject = new { country, commonName = "x.example" } });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(word, (await Json.ReadAsync(response)).GetProperty("detail").GetString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task ExportsOpenWithOpenSslAndAPrivateKeyNeedsAPassphrase()
    {
        var host = Unique("export");
        pki.MakeLeaf("export", host, [host]);
        using var client = await Appliance.LoginAsync();
        var imported = await Json.ReadAsync(await client.PostAsync("certificates/import",
            Upload(null, FileOf("export.crt"), FileOf("export.key"), FileOf("intermediate.crt"), FileOf("root.crt"))));
        var id = imported.GetProperty("certificates").EnumerateArray().Single(c => c.GetProperty("commonName").GetString() == host).GetProperty("id").GetString()!;

        var noPassphrase = await client.PostAsJsonAsync("certificates/export", new { ids = new[] { id }, certificate = true, privateKey = true, chain = false, format = "pem" });
        Assert.Equal(HttpStatusCode.BadRequest, noPassphrase.StatusCode);
        Assert.Contains("at least 8 characters", (await Json.ReadAsync(noPassphrase)).GetProperty("detail").GetString());

        // In clear only when asked for explicitly, as PEM; the audit log names it.
        var clear = await client.PostAsJsonAsync("certificates/export", new { ids = new[] { id }, certificate = false, privateKey = true, chain = false, format = "pem", unencryptedPrivateKey = true });
        Assert.Equal(HttpStatusCode.OK, clear.StatusCode);
        File.WriteAllText(pki.Path(id + ".clear.pem"), await clear.Content.ReadAsStringAsync());
        Assert.Equal(OpenSslFixture.Run("pkey", "-in", pki.Path("export.key"), "-pubout"), OpenSslFixture.Run("pkey", "-in", pki.Path(id + ".clear.pem"), "-pubout"));
        var clearAsPkcs12 = await client.PostAsJsonAsync("certificates/export", new { ids = new[] { id }, certificate = true, privateKey = true, chain = false, format = "pkcs12", unencryptedPrivateKey = true });
        Assert.Equal(HttpStatusCode.BadRequest, clearAsPkcs12.StatusCode);
        Assert.Contains("only as PEM", (await Json.ReadAsync(clearAsPkcs12)).GetProperty("detail").GetString());
        // The entry is written once the response is complete, which the client may see first: ask until it is there.
        const string inClear = "PRIVATE KEY UNENCRYPTED (no passphrase; the admin confirmed the export in clear)";
        var audit = "";
        for (var deadline = DateTime.UtcNow.AddSeconds(10); !audit.Contains(inClear) && DateTime.UtcNow < deadline; await Task.Delay(50))
            audit = await client.GetStringAsync("audit?limit=20");
        Assert.Contains(inClear, audit);

        var pfx = await client.PostAsJsonAsync("certificates/export", new { ids = new[] { id }, certificate = true, privateKey = true, chain = true, passphrase = "export-pass-1", format = "pkcs12" });
        Assert.Equal(HttpStatusCode.OK, pfx.StatusCode);
        File.WriteAllBytes(pki.Path(id + ".p12"), await pfx.Content.ReadAsByteArrayAsync());
        var opened = OpenSslFixture.Run("pkcs12", "-in", pki.Path(id + ".p12"), "-passin", "pass:export-pass-1", "-nodes");
        Assert.Contains("BEGIN PRIVATE KEY", opened);
        Assert.Contains("CN=Test Intermediate CA", opened.Replace(" = ", "="));
        Assert.Contains("CN=" + host, opened.Replace(" = ", "="));

        var pem = await client.PostAsJsonAsync("certificates/export", new { ids = new[] { id }, certificate = true, privateKey = true, chain = false, passphrase = "export-pass-2", format = "pem" });
        var pemText = await pem.Content.ReadAsStringAsync();
        Assert.Contains("BEGIN ENCRYPTED PRIVATE KEY", pemText);
        Assert.DoesNotContain("BEGIN PRIVATE KEY", pemText);
        File.WriteAllText(pki.Path(id + ".pem"), pemText);
        var keyModulus = OpenSslFixture.Run("pkey", "-in", pki.Path(id + ".pem"), "-passin", "pass:export-pass-2", "-pubout");
        var originalModulus = OpenSslFixture.Run("pkey", "-in", pki.Path("export.key"), "-pubout");
        Assert.Equal(originalModulus, keyModulus);

        var p7 = await client.PostAsJsonAsync("certificates/export", new { ids = new[] { id }, certificate = true, privateKey = false, chain = true, format = "pkcs7" });
        File.WriteAllBytes(pki.Path(id + ".p7b"), await p7.Content.ReadAsByteArrayAsync());
        var listed = OpenSslFixture.Run("pkcs7", "-inform", "DER", "-in", pki.Path(id + ".p7b"), "-print_certs", "-noout");
        Assert.Contains("CN=" + host, listed.Replace(" = ", "="));
        Assert.Contains("CN=Test Root CA", listed.Replace(" = ", "="));
    }

    public static TheoryData<string, string> BadFiles => new()
    {
        { "empty.crt", "empty" },
        { "random.crt", "random" },
        { "picture.crt", "png" },
        { "truncated.crt", "truncated" },
        { "thousands.pem", "thousands" },
        { "wrong-password.p12", "p12" },
    };

    [Theory]
    [MemberData(nameof(BadFiles))]
    public async Task ABadFileAnswers400NamingTheFileAndChangesNothing(string fileName, string kind)
    {
        byte[] content = kind switch
        {
            "empty" => [],
            "random" => RandomNumberGenerator.GetBytes(5 * 1024 * 1024),
            "png" => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1f, 0x15, 0xc4, 0x89],
            "truncated" => File.ReadAllBytes(pki.Path("intermediate.crt"))[..300],
            "thousands" => System.Text.Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat(File.ReadAllText(pki.Path("intermediate.crt")), 2000))),
            _ => MakePkcs12("right-password"),
        };
        using var client = await Appliance.LoginAsync();
        var before = await (await client.GetAsync("certificates")).Content.ReadAsStringAsync();
        var response = await client.PostAsync("certificates/import", Upload(kind == "p12" ? "wrong-password" : null, (fileName, content)));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var detail = (await Json.ReadAsync(response)).GetProperty("detail").GetString()!;
        Assert.Contains(fileName, detail);
        if (kind == "p12") Assert.Contains("password", detail, StringComparison.OrdinalIgnoreCase);
        var after = await (await client.GetAsync("certificates")).Content.ReadAsStringAsync();
        Assert.Equal(before, after);
    }

    private byte[] MakePkcs12(string password)
    {
        var stem = "p12-" + Guid.NewGuid().ToString("N")[..8];
        pki.MakeLeaf(stem, stem + ".example", [stem + ".example"]);
        OpenSslFixture.Run("pkcs12", "-export", "-in", pki.Path(stem + ".crt"), "-inkey", pki.Path(stem + ".key"), "-out", pki.Path(stem + ".p12"), "-passout", "pass:" + password);
        return File.ReadAllBytes(pki.Path(stem + ".p12"));
    }

    [Fact]
    public async Task AnUploadOverTheLimitAnswers413()
    {
        using var client = await Appliance.LoginAsync();
        // As curl does for large bodies: Expect: 100-continue lets the server refuse before the upload is sent.
        using var request = new HttpRequestMessage(HttpMethod.Post, "certificates/import") { Content = Upload(null, ("huge.pem", new byte[11 * 1024 * 1024])) };
        request.Headers.ExpectContinue = true;
        var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("MB", (await Json.ReadAsync(response)).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task ACertificateWhoseSignatureDoesNotVerifyAgainstItsIssuerIsRefused()
    {
        var host = Unique("forged");
        pki.MakeLeaf("forged", host, [host]);
        var der = X509CertificateLoader.LoadCertificateFromFile(pki.Path("forged.crt")).RawData;
        der[^5] ^= 0xff; // flip bits inside the signature value
        using var client = await Appliance.LoginAsync();
        var before = await (await client.GetAsync("certificates")).Content.ReadAsStringAsync();
        var response = await client.PostAsync("certificates/import", Upload(null, ("forged.der", der), FileOf("intermediate.crt")));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("does not verify", (await Json.ReadAsync(response)).GetProperty("detail").GetString());
        Assert.Equal(before, await (await client.GetAsync("certificates")).Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ACertificateFromAReKeyedCaWithTheSameNameImportsWithAnIncompleteChain()
    {
        using var other = new OpenSslFixture(); // same CA names as the shared PKI, other keys
        var host = Unique("rekeyed");
        other.MakeLeaf("rekeyed", host, [host]);
        using var client = await Appliance.LoginAsync();
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("certificates/import", Upload(null, FileOf("intermediate.crt")))).StatusCode);
        var response = await client.PostAsync("certificates/import", Upload(null, ("rekeyed.crt", File.ReadAllBytes(other.Path("rekeyed.crt")))));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var certificate = Assert.Single((await Json.ReadAsync(response)).GetProperty("certificates").EnumerateArray());
        Assert.False(certificate.GetProperty("chainComplete").GetBoolean());
        Assert.Equal(1, certificate.GetProperty("chain").GetArrayLength());
    }

    [Fact]
    public async Task TheCertificateChosenBySniIsServedWithItsChainToOpenSsl()
    {
        var host = Unique("sni");
        pki.MakeLeaf("sni", host, [host]);
        using var client = await Appliance.LoginAsync();
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("certificates/import",
            Upload(null, FileOf("sni.crt"), FileOf("sni.key"), FileOf("intermediate.crt"), FileOf("root.crt")))).StatusCode);
        var output = OpenSslFixture.RunIn("", null, "s_client", "-connect", $"127.0.0.1:{Appliance.HttpsPort}", "-servername", host.ToUpperInvariant(),
            "-showcerts", "-CAfile", pki.Path("root.crt"), "-verify_return_error");
        Assert.Contains("Verify return code: 0 (ok)", output);
        Assert.Contains("CN=" + host, output.Replace(" = ", "="));
        Assert.Contains("CN=Test Intermediate CA", output.Replace(" = ", "="));
    }
}

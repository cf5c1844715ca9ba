using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Appliance.Certificates.Tests;

namespace Appliance.Tests.Interop;

/// <summary>
/// Issue 11's interop classes imported through the API of the published binary, each file made at test time by the
/// tool that writes it in the field; what imports with its key is then served by SNI.
/// </summary>
[Collection(ApplianceCollection.Name)]
public sealed class InteropImportApiTests(ApplianceFixture fixture) : IDisposable
{
    private readonly InteropFiles _files = new(Directory.CreateTempSubdirectory("appliance-interop-api-").FullName);

    private ApplianceProcess Appliance => fixture.Appliance;

    public static TheoryData<string> Pkcs12Tools => new(InteropFiles.Pkcs12Tools);

    [Fact]
    public async Task AnEcparamKeyImportsWithItsCertificateAndIsServedByName()
    {
        string host = Unique("ecparam");
        var (key, certificate) = _files.EcparamKey("ecparam", host);
        using var client = await Appliance.LoginAsync();

        var response = await client.PostAsync("certificates/import", Upload(null, certificate, key));
        var result = await ReadOkAsync(response);

        var imported = Assert.Single(result.GetProperty("certificates").EnumerateArray());
        Assert.Equal(("ECDSA", 384, true), (imported.GetProperty("keyAlgorithm").GetString(), imported.GetProperty("keySize").GetInt32(), imported.GetProperty("hasPrivateKey").GetBoolean()));
        Assert.Equal(Pem(File.ReadAllText(_files.Path(certificate))), Pem(ServedLeaf(host)));
    }

    [Theory]
    [MemberData(nameof(Pkcs12Tools))]
    public async Task APkcs12FromEachToolImportsWithItsPasswordAndTheWrongOneIsRefusedInWords(string tool)
    {
        string host = Unique(tool);
        var (file, password) = _files.Pkcs12(tool, tool, host);
        using var client = await Appliance.LoginAsync();

        var wrong = await client.PostAsync("certificates/import", Upload(password[..^1], file));
        Assert.Equal(HttpStatusCode.BadRequest, wrong.StatusCode);
        Assert.Equal($"{file}: the password is wrong for the PKCS#12 file. Check the password (it is case-sensitive) and upload the file again.",
            (await Json.ReadAsync(wrong)).GetProperty("detail").GetString());

        var result = await ReadOkAsync(await client.PostAsync("certificates/import", Upload(password, file)));
        var imported = Assert.Single(result.GetProperty("certificates").EnumerateArray());
        Assert.Equal(host, imported.GetProperty("commonName").GetString());
        Assert.True(imported.GetProperty("hasPrivateKey").GetBoolean());
        Assert.Contains($"CN={host}", ServedLeafSubject(host), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("openssl")]
    [InlineData("certtool")]
    public async Task AnEd25519CertificateIsReportedAsEd25519Of256BitsAndRefusedForServingInWords(string tool)
    {
        string host = Unique("ed-" + tool);
        string file = _files.Ed25519Certificate(tool, "ed-" + tool, host);
        using var client = await Appliance.LoginAsync();

        var result = await ReadOkAsync(await client.PostAsync("certificates/import", Upload(null, file)));
        var imported = Assert.Single(result.GetProperty("certificates").EnumerateArray());
        Assert.Equal(("Ed25519", 256), (imported.GetProperty("keyAlgorithm").GetString(), imported.GetProperty("keySize").GetInt32()));
        string name = imported.GetProperty("friendlyName").GetString()!;
        string refusal = $"'{name}' has an Ed25519 key, which browsers do not accept from TLS servers, so the appliance cannot serve it " +
            "(the appliance accepts RSA keys of 2048 to 4096 bits and ECDSA keys on the curves P-256 and P-384). " +
            "Have a certificate issued for an RSA or ECDSA key and use that one; this one can stay as a certificate for reference.";
        Assert.Contains(refusal, result.GetProperty("warnings").EnumerateArray().Select(w => w.GetString()));
        Assert.Equal(refusal, imported.GetProperty("defaultRefusal").GetString());

        string id = imported.GetProperty("id").GetString()!;
        var listed = (await Json.ReadAsync(await client.GetAsync($"certificates/{id}")));
        Assert.Equal(("Ed25519", 256), (listed.GetProperty("keyAlgorithm").GetString(), listed.GetProperty("keySize").GetInt32()));

        var assign = await client.PutAsJsonAsync("network/addresses", new[] { new { address = "127.0.0.9", certificateId = id, applianceAccess = true, siteAccess = true } });
        Assert.Equal(HttpStatusCode.BadRequest, assign.StatusCode);
        Assert.Equal("It cannot be assigned to 127.0.0.9: " + refusal, (await Json.ReadAsync(assign)).GetProperty("detail").GetString());

        var makeDefault = await client.PutAsJsonAsync("certificates/default", new { id });
        Assert.Equal(HttpStatusCode.BadRequest, makeDefault.StatusCode);
        Assert.Equal(refusal, (await Json.ReadAsync(makeDefault)).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task TheApiDocumentListsEd25519AsACertificatesKeyAlgorithmButNeverAKeysOrARequests()
    {
        using var client = await Appliance.LoginAsync();
        var schemas = (await Json.ReadAsync(await client.GetAsync("../openapi.json"))).GetProperty("components").GetProperty("schemas");

        string[] Enum(string schema) => schemas.GetProperty(schema).GetProperty("properties").GetProperty("keyAlgorithm").GetProperty("enum")
            .EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!).ToArray();
        Assert.Equal(["RSA", "ECDSA", "Ed25519"], Enum("CertificateDto"));
        Assert.Equal(["RSA", "ECDSA"], Enum("KeyDto"));
        Assert.Equal(["RSA", "ECDSA"], Enum("CertificateRequestDto"));
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_files.Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 9)] + ".interop.test";

    private MultipartFormDataContent Upload(string? password, params string[] files)
    {
        var form = new MultipartFormDataContent();
        foreach (string file in files)
        {
            var part = new ByteArrayContent(_files.Bytes(file));
            part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            form.Add(part, "file", file);
        }

        if (password is not null) form.Add(new StringContent(password), "password");
        return form;
    }

    private static async Task<JsonElement> ReadOkAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonDocument.Parse(text).RootElement;
    }

    // What `openssl s_client -servername host` prints of the appliance's answer.
    private string ServedLeaf(string host) =>
        _files.Run("openssl", "s_client", "-connect", $"127.0.0.1:{Appliance.HttpsPort}", "-servername", host);

    private string ServedLeafSubject(string host) =>
        ServedLeaf(host).Split('\n').FirstOrDefault(l => l.StartsWith("subject=", StringComparison.Ordinal))?.Replace(" = ", "=", StringComparison.Ordinal)
        ?? throw new InvalidOperationException("no certificate served for " + host);

    /// <summary>The first PEM certificate's Base64 in a text (s_client prints the server's leaf).</summary>
    private static string Pem(string text)
    {
        int start = text.IndexOf("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal);
        int end = start < 0 ? -1 : text.IndexOf("-----END CERTIFICATE-----", start, StringComparison.Ordinal);
        Assert.True(start >= 0 && end > start, "no certificate in:\n" + text);
        return text[start..end];
    }
}

namespace Appliance.Testing;

/// <summary>
/// The test PKI made by the real openssl at test time, in a temporary directory: a root CA (<c>root.crt</c>, P-384),
/// an intermediate CA under it (<c>intermediate.crt</c>, RSA 2048), an unrelated CA (<c>orphan.crt</c>), and helpers
/// to make leaves, sign requests and run openssl. A missing openssl fails with the install command.
/// </summary>
public sealed class OpenSslFixture : IDisposable
{
    public OpenSslFixture() : this("Test Root CA") { }

    /// <summary>A PKI whose root has its own common name, for a test that must tell its root apart from the shared one.</summary>
    public static OpenSslFixture WithRootName(string rootCommonName) => new(rootCommonName);

    private OpenSslFixture(string rootCommonName)
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("appliance-pki-").FullName;
        File.WriteAllText(Path("ca.ext"), "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n");
        Run("ecparam", "-name", "prime256v1", "-out", Path("p256.param"));
        Run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384", "-nodes", "-keyout", Path("root.key"), "-out", Path("root.crt"),
            "-days", "3650", "-subj", $"/C=US/O=Test PKI/CN={rootCommonName}", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
        Run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", Path("intermediate.key"), "-out", Path("intermediate.csr"), "-subj", "/C=US/O=Test PKI/CN=Test Intermediate CA");
        Run("x509", "-req", "-in", Path("intermediate.csr"), "-CA", Path("root.crt"), "-CAkey", Path("root.key"), "-CAcreateserial",
            "-out", Path("intermediate.crt"), "-days", "1825", "-extfile", Path("ca.ext"));
        Run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", Path("orphan.key"), "-out", Path("orphan.csr"), "-subj", "/C=US/O=Elsewhere/CN=Orphan Issuing CA");
        Run("x509", "-req", "-in", Path("orphan.csr"), "-signkey", Path("orphan.key"), "-out", Path("orphan.crt"), "-days", "1825", "-extfile", Path("ca.ext"));
    }

    public string Directory { get; }

    /// <summary>"intermediate" (under the test root) or "orphan" (a CA whose certificate is never imported, so chains stay incomplete).</summary>
    private string IssuerPath(string issuer, string extension) => Path(issuer + extension);

    /// <summary>Imports the leaf <paramref name="stem"/> with its key, the intermediate and the root through the API; the leaf's id.</summary>
    public async Task<string> ImportLeafWithChainAsync(HttpClient client, string stem, string commonName)
    {
        var form = new MultipartFormDataContent();
        foreach (var file in new[] { stem + ".crt", stem + ".key", "intermediate.crt", "root.crt" })
        {
            var part = new ByteArrayContent(File.ReadAllBytes(Path(file)));
            part.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/octet-stream");
            form.Add(part, "file", file);
        }
        var response = await client.PostAsync("certificates/import", form);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"Importing {stem} answered {(int)response.StatusCode}: {text}");
        return System.Text.Json.JsonDocument.Parse(text).RootElement.GetProperty("certificates").EnumerateArray()
            .Single(c => c.GetProperty("commonName").GetString() == commonName).GetProperty("id").GetString()!;
    }

    public string Path(string name) => System.IO.Path.Combine(Directory, name);

    public byte[] Bytes(string name) => File.ReadAllBytes(Path(name));

    /// <summary>A new leaf key and certificate for <paramref name="names"/>, issued by the intermediate CA; returns the file stem.</summary>
    public string MakeLeaf(string stem, string commonName, string[] names, string keySpec = "rsa:2048", int days = 90, string issuer = "intermediate",
        string? ocspResponder = null)
    {
        Run("req", "-newkey", keySpec, "-nodes", "-keyout", Path(stem + ".key"), "-out", Path(stem + ".csr"), "-subj", $"/C=US/O=Example/CN={commonName}");
        SignRequest(Path(stem + ".csr"), Path(stem + ".crt"), names, days, issuer, ocspResponder);
        return stem;
    }

    /// <summary>Signs a CSR (PEM) with the intermediate CA as a TLS server certificate with the given SANs (and an AIA OCSP responder URL).</summary>
    public void SignRequest(string csrPath, string certificatePath, string[] names, int days = 90, string issuer = "intermediate", string? ocspResponder = null)
    {
        var extension = certificatePath + ".ext";
        File.WriteAllText(extension, "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nauthorityKeyIdentifier=keyid\nsubjectAltName="
            + string.Join(',', names.Select(n => System.Net.IPAddress.TryParse(n, out _) ? "IP:" + n : "DNS:" + n)) + "\n"
            + (ocspResponder is null ? "" : $"authorityInfoAccess=OCSP;URI:{ocspResponder}\n"));
        Run("x509", "-req", "-in", csrPath, "-CA", IssuerPath(issuer, ".crt"), "-CAkey", IssuerPath(issuer, ".key"), "-CAcreateserial",
            "-out", certificatePath, "-days", days.ToString(), "-extfile", extension);
    }

    private readonly Lock _ocspSigner = new();

    /// <summary>A delegated OCSP responder certificate (id-kp-OCSPSigning) issued by the intermediate CA: "ocsp-signer.crt/.key".</summary>
    public string OcspSigner()
    {
        lock (_ocspSigner)
        {
            if (!File.Exists(Path("ocsp-signer.crt")))
            {
                File.WriteAllText(Path("ocsp-signer.ext"), "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=OCSPSigning\nauthorityKeyIdentifier=keyid\n");
                Run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", Path("ocsp-signer.key"), "-out", Path("ocsp-signer.csr"),
                    "-subj", "/C=US/O=Test PKI/CN=Test OCSP Responder");
                Run("x509", "-req", "-in", Path("ocsp-signer.csr"), "-CA", Path("intermediate.crt"), "-CAkey", Path("intermediate.key"), "-CAcreateserial",
                    "-out", Path("ocsp-signer.crt"), "-days", "30", "-extfile", Path("ocsp-signer.ext"));
            }
            return "ocsp-signer";
        }
    }

    public static string Run(params string[] args) => RunIn(null, null, args);

    /// <summary>Runs openssl (with <paramref name="input"/> on its standard input) and returns its standard output followed by
    /// its standard error (some commands, such as <c>pkcs12 -info</c>, report there).</summary>
    public static string RunIn(string? input, string? workingDirectory, params string[] args)
    {
        var (output, error) = ExternalTools.RunIn(new ExternalTools.ToolRun("openssl", "openssl", workingDirectory, Input: input), args);
        return System.Text.Encoding.UTF8.GetString(output) + error;
    }

    public void Dispose()
    {
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { }
    }
}

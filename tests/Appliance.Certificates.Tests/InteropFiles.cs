namespace Appliance.Certificates.Tests;

/// <summary>
/// Issue 11's interop classes as the named tools write them, made in a directory at test time: shared by the reader's
/// tests and the import tests through the published binary (tests/Appliance.Tests links this file).
/// </summary>
public sealed class InteropFiles(string directory)
{
    /// <summary>Latin-1, a Euro sign outside Latin-1 and CJK: UTF-8 and BMPString encodings differ in every byte length.</summary>
    public const string NonAsciiPassword = "Pässwörd-€-日本";

    /// <summary>keytool refuses a non-ASCII password ("Password is not ASCII", OpenJDK 17 PBES2), so its files have this one.</summary>
    public const string KeytoolPassword = "keytool-secret";

    public static readonly string[] Pkcs12Tools = ["openssl", "pk12util", "certtool", "keytool"];

    public string Directory => directory;

    public string Path(string name) => System.IO.Path.Combine(directory, name);

    public byte[] Bytes(string name) => File.ReadAllBytes(Path(name));

    public string Run(string tool, params string[] arguments) => InteropTools.Run(directory, tool, arguments);

    /// <summary>`openssl ecparam -genkey` on P-384 ("EC PARAMETERS" then "EC PRIVATE KEY") and a self-signed certificate for it: (key, certificate).</summary>
    public (string Key, string Certificate) EcparamKey(string stem, string commonName)
    {
        Run("openssl", "ecparam", "-genkey", "-name", "secp384r1", "-out", $"{stem}.key");
        Run("openssl", ["req", "-new", "-x509", "-key", $"{stem}.key", "-subj", $"/CN={commonName}", .. ServerExtensions(commonName), "-days", "30", "-out", $"{stem}.crt"]);
        return ($"{stem}.key", $"{stem}.crt");
    }

    /// <summary>A self-signed Ed25519 certificate made by openssl or certtool (its key beside it as <c>{stem}.key</c>).</summary>
    public string Ed25519Certificate(string tool, string stem, string commonName)
    {
        if (tool == "openssl")
        {
            Run("openssl", "genpkey", "-algorithm", "ed25519", "-out", $"{stem}.key");
            Run("openssl", ["req", "-new", "-x509", "-key", $"{stem}.key", "-subj", $"/CN={commonName}", .. ServerExtensions(commonName), "-days", "30", "-out", $"{stem}.crt"]);
            return $"{stem}.crt";
        }

        Run("certtool", "--generate-privkey", "--key-type", "ed25519", "--outfile", $"{stem}.key");
        File.WriteAllText(Path($"{stem}.tmpl"), $"cn = {commonName}\ndns_name = {commonName}\nexpiration_days = 30\ntls_www_server\n");
        Run("certtool", "--generate-self-signed", "--load-privkey", $"{stem}.key", "--template", $"{stem}.tmpl", "--outfile", $"{stem}.crt");
        return $"{stem}.crt";
    }

    /// <summary>
    /// A PKCS#12 file holding a new self-signed certificate for <paramref name="commonName"/> and its key, exported by
    /// <paramref name="tool"/> with <see cref="NonAsciiPassword"/> (keytool: <see cref="KeytoolPassword"/>); returns (file, password).
    /// </summary>
    public (string File, string Password) Pkcs12(string tool, string stem, string commonName)
    {
        string file = $"{stem}.p12";
        if (tool == "keytool")
        {
            Run("keytool", "-genkeypair", "-alias", stem, "-keyalg", "EC", "-groupname", "secp256r1", "-dname", $"CN={commonName}",
                "-ext", $"SAN=dns:{commonName}", "-validity", "30", "-storetype", "PKCS12", "-keystore", file, "-storepass", KeytoolPassword, "-keypass", KeytoolPassword);
            return (file, KeytoolPassword);
        }

        Run("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", $"{stem}.key", "-subj", $"/CN={commonName}",
            .. ServerExtensions(commonName), "-days", "30", "-out", $"{stem}.crt"]);
        switch (tool)
        {
            case "openssl":
                // OpenSSL 3's default: PBES2/PBKDF2 with AES-256 (password as UTF-8), MAC over SHA-256 (password as BMPString).
                Run("openssl", "pkcs12", "-export", "-in", $"{stem}.crt", "-inkey", $"{stem}.key", "-name", stem, "-passout", $"pass:{NonAsciiPassword}", "-out", file);
                break;
            case "pk12util":
                string database = $"sql:{stem}-nssdb";
                System.IO.Directory.CreateDirectory(Path($"{stem}-nssdb"));
                Run("certutil", "-N", "-d", database, "--empty-password");
                Run("openssl", "pkcs12", "-export", "-in", $"{stem}.crt", "-inkey", $"{stem}.key", "-name", stem, "-passout", "pass:transfer", "-out", $"{stem}-transfer.p12");
                Run("pk12util", "-i", $"{stem}-transfer.p12", "-d", database, "-W", "transfer");
                Run("pk12util", "-o", file, "-n", stem, "-d", database, "-W", NonAsciiPassword);
                break;
            case "certtool":
                Run("certtool", "--to-p12", "--load-certificate", $"{stem}.crt", "--load-privkey", $"{stem}.key", "--p12-name", stem,
                    "--password", NonAsciiPassword, "--outder", "--outfile", file);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(tool), tool, "one of " + string.Join(", ", Pkcs12Tools));
        }

        return (file, NonAsciiPassword);
    }

    // `openssl req -x509` marks a certificate CA:TRUE unless told otherwise, and a CA is never served: a server certificate.
    private static string[] ServerExtensions(string commonName) =>
        ["-addext", $"subjectAltName=DNS:{commonName}", "-addext", "basicConstraints=critical,CA:FALSE"];
}

using Appliance.Certificates.Formats;
using Appliance.Testing;

[assembly: AssemblyFixture(typeof(Appliance.Certificates.Tests.CertificateFiles))]

namespace Appliance.Certificates.Tests;

/// <summary>
/// The files the certificate readers are tested on, made with the real openssl once per test run in the shared test
/// PKI's directory (<see cref="OpenSslFixture"/>): leaves for each accepted key type issued by its intermediate,
/// keys to refuse, and each leaf's key and chain in every import format.
/// </summary>
public sealed class CertificateFiles : IDisposable
{
    public const string Password = "secret123";

    public static readonly string[] LeafKeys = ["rsa2048", "rsa3072", "rsa4096", "p256", "p384"];

    private readonly OpenSslFixture _pki = new();

    public CertificateFiles()
    {
        Run("version");
        File.WriteAllText(Path("leaf.ext"), "basicConstraints=CA:false\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:www.example.com,DNS:example.com\n");

        GenerateKey("rsa2048", "RSA", "rsa_keygen_bits:2048");
        GenerateKey("rsa3072", "RSA", "rsa_keygen_bits:3072");
        GenerateKey("rsa4096", "RSA", "rsa_keygen_bits:4096");
        GenerateKey("p256", "EC", "ec_paramgen_curve:P-256");
        GenerateKey("p384", "EC", "ec_paramgen_curve:P-384");
        GenerateKey("rsa1024", "RSA", "rsa_keygen_bits:1024");
        GenerateKey("rsa4160", "RSA", "rsa_keygen_bits:4160");
        GenerateKey("secp256k1", "EC", "ec_paramgen_curve:secp256k1");
        Run("genpkey", "-algorithm", "ED25519", "-out", Path("ed25519.key"));
        Run("genpkey", "-genparam", "-algorithm", "DSA", "-pkeyopt", "dsa_paramgen_bits:1024", "-out", Path("dsa.param"));
        Run("genpkey", "-paramfile", Path("dsa.param"), "-out", Path("dsa.key"));
        Run("dsa", "-in", Path("dsa.key"), "-outform", "DER", "-out", Path("dsa-trad.der"));

        File.WriteAllText(Path("chain.pem"), File.ReadAllText(Path("intermediate.crt")) + File.ReadAllText(Path("root.crt")));
        int serial = 10;
        foreach (string name in LeafKeys)
        {
            Run("req", "-new", "-key", Path($"{name}.key"), "-out", Path($"{name}.csr"), "-subj", $"/CN=www.example.com/O=Leaf {name}");
            Run("x509", "-req", "-in", Path($"{name}.csr"), "-CA", Path("intermediate.crt"), "-CAkey", Path("intermediate.key"), "-set_serial", (serial++).ToString(System.Globalization.CultureInfo.InvariantCulture),
                "-days", "365", "-extfile", Path("leaf.ext"), "-out", Path($"{name}.crt"));
            Run("x509", "-in", Path($"{name}.crt"), "-outform", "DER", "-out", Path($"{name}.der"));
            MakeKeyFormats(name);
            MakeBundles(name);
        }

        // A second, unrelated key to pair with a certificate it does not belong to.
        GenerateKey("other", "RSA", "rsa_keygen_bits:2048");
    }

    public string Directory => _pki.Directory;

    public string Path(string name) => System.IO.Path.Combine(Directory, name);

    public byte[] Bytes(string name) => File.ReadAllBytes(Path(name));

    public ImportFile Import(string name) => new(name, Bytes(name));

    /// <summary>Runs openssl in the fixture directory; its standard output followed by its standard error.</summary>
    public string Run(params string[] arguments) => OpenSslFixture.RunIn(null, Directory, arguments);

    public void Dispose() => _pki.Dispose();

    private void GenerateKey(string name, string algorithm, string option) =>
        Run("genpkey", "-algorithm", algorithm, "-pkeyopt", option, "-out", Path($"{name}.key"));

    private void MakeKeyFormats(string name)
    {
        string key = Path($"{name}.key");
        Run("pkcs8", "-topk8", "-nocrypt", "-in", key, "-outform", "DER", "-out", Path($"{name}.pk8.der"));
        Run("pkcs8", "-topk8", "-v2", "aes-256-cbc", "-v2prf", "hmacWithSHA256", "-passout", $"pass:{Password}", "-in", key, "-out", Path($"{name}.pk8enc.pem"));
        Run("pkcs8", "-topk8", "-v2", "aes-256-cbc", "-passout", $"pass:{Password}", "-in", key, "-outform", "DER", "-out", Path($"{name}.pk8enc.der"));
        Run("pkcs8", "-topk8", "-v1", "PBE-SHA1-3DES", "-passout", $"pass:{Password}", "-in", key, "-out", Path($"{name}.pk8-3des.pem"));
        string tool = name.StartsWith("rsa", StringComparison.Ordinal) ? "rsa" : "ec";
        string[] traditional = tool == "rsa" ? ["-traditional"] : [];
        Run([tool, "-in", key, .. traditional, "-out", Path($"{name}.trad.pem")]);
        Run([tool, "-in", key, .. traditional, "-outform", "DER", "-out", Path($"{name}.trad.der")]);
        Run([tool, "-in", key, .. traditional, "-aes256", "-passout", $"pass:{Password}", "-out", Path($"{name}.trad-enc.pem")]);
    }

    private void MakeBundles(string name)
    {
        string[] common = ["pkcs12", "-export", "-in", Path($"{name}.crt"), "-inkey", Path($"{name}.key"), "-certfile", Path("chain.pem"), "-name", $"leaf {name}"];
        Run([.. common, "-certpbe", "AES-256-CBC", "-keypbe", "AES-256-CBC", "-macalg", "sha256", "-passout", $"pass:{Password}", "-out", Path($"{name}.aes.p12")]);
        Run([.. common, "-legacy", "-passout", $"pass:{Password}", "-out", Path($"{name}.legacy.p12")]);
        Run([.. common, "-passout", "pass:", "-out", Path($"{name}.empty.p12")]);
        Run([.. common, "-keypbe", "NONE", "-certpbe", "NONE", "-nomac", "-passout", "pass:", "-out", Path($"{name}.nopass.p12")]);
        Run("crl2pkcs7", "-nocrl", "-certfile", Path($"{name}.crt"), "-certfile", Path("chain.pem"), "-outform", "DER", "-out", Path($"{name}.p7b.der"));
        Run("crl2pkcs7", "-nocrl", "-certfile", Path($"{name}.crt"), "-certfile", Path("chain.pem"), "-out", Path($"{name}.p7b.pem"));
        File.WriteAllText(Path($"{name}.bundle.pem"), "Leaf and key, as a web server expects them\n" + File.ReadAllText(Path($"{name}.crt")) + File.ReadAllText(Path("chain.pem")) + File.ReadAllText(Path($"{name}.key")));
    }
}

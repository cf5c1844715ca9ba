using Appliance.Certificates.Formats;

[assembly: AssemblyFixture(typeof(Appliance.Certificates.Tests.OpenSslFixture))]

namespace Appliance.Certificates.Tests;

/// <summary>
/// Makes every fixture file with the real openssl at test time, once per test run, in a temp directory:
/// a root CA, an intermediate CA, leaves for each accepted key type, keys to refuse, and each leaf's
/// key and chain in every import format.
/// </summary>
public sealed class OpenSslFixture : IDisposable
{
    public const string Password = "secret123";

    public static readonly string[] LeafKeys = ["rsa2048", "rsa3072", "rsa4096", "p256", "p384"];

    public OpenSslFixture()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("appliance-certs-").FullName;
        Run("version");
        File.WriteAllText(Path("ca.ext"), "basicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n");
        File.WriteAllText(Path("leaf.ext"), "basicConstraints=CA:false\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:www.example.com,DNS:example.com\n");

        Run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", Path("ca.key"), "-out", Path("ca.crt"), "-days", "3650",
            "-subj", "/C=DE/O=Test/CN=Test Root CA", "-addext", "basicConstraints=critical,CA:true", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
        Run("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out", Path("int.key"));
        Run("req", "-new", "-key", Path("int.key"), "-out", Path("int.csr"), "-subj", "/C=DE/O=Test/CN=Test Intermediate CA");
        Run("x509", "-req", "-in", Path("int.csr"), "-CA", Path("ca.crt"), "-CAkey", Path("ca.key"), "-set_serial", "2", "-days", "3650",
            "-extfile", Path("ca.ext"), "-out", Path("int.crt"));

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

        File.WriteAllText(Path("chain.pem"), File.ReadAllText(Path("int.crt")) + File.ReadAllText(Path("ca.crt")));
        int serial = 10;
        foreach (string name in LeafKeys)
        {
            Run("req", "-new", "-key", Path($"{name}.key"), "-out", Path($"{name}.csr"), "-subj", $"/CN=www.example.com/O=Leaf {name}");
            Run("x509", "-req", "-in", Path($"{name}.csr"), "-CA", Path("int.crt"), "-CAkey", Path("int.key"), "-set_serial", (serial++).ToString(System.Globalization.CultureInfo.InvariantCulture),
                "-days", "365", "-extfile", Path("leaf.ext"), "-out", Path($"{name}.crt"));
            Run("x509", "-in", Path($"{name}.crt"), "-outform", "DER", "-out", Path($"{name}.der"));
            MakeKeyFormats(name);
            MakeBundles(name);
        }

        // A second, unrelated key to pair with a certificate it does not belong to.
        GenerateKey("other", "RSA", "rsa_keygen_bits:2048");
    }

    public string Directory { get; }

    public string Path(string name) => System.IO.Path.Combine(Directory, name);

    public byte[] Bytes(string name) => File.ReadAllBytes(Path(name));

    public ImportFile Import(string name) => new(name, Bytes(name));

    /// <summary>Runs openssl and returns its standard output followed by its standard error (some commands, such as
    /// <c>pkcs12 -info</c>, report there); a missing openssl fails with an install hint (never a skip).</summary>
    public string Run(params string[] arguments) => InteropTools.Run(Directory, "openssl", arguments);

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

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

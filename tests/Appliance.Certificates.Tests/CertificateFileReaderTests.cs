using System.Security.Cryptography;
using System.Text;
using Appliance.Certificates.Formats;

namespace Appliance.Certificates.Tests;

public sealed class CertificateFileReaderTests(CertificateFiles openssl)
{
    private const string Password = CertificateFiles.Password;

    public static TheoryData<string> LeafKeys => new(CertificateFiles.LeafKeys);

    [Theory]
    [MemberData(nameof(LeafKeys))]
    public void ReadsPemAndDerCertificatesWithoutAttachingAKey(string key)
    {
        foreach (string file in new[] { $"{key}.crt", $"{key}.der" })
        {
            var parsed = CertificateFileReader.Read(openssl.Import(file), null);
            var certificate = Assert.Single(parsed.Certificates);
            Assert.Equal("O=Leaf " + key + ", CN=www.example.com", certificate.Subject);
            Assert.False(certificate.HasPrivateKey);
            Assert.Empty(parsed.Keys);
            Assert.Equal(file, parsed.FileName);
        }
    }

    [Theory]
    [MemberData(nameof(LeafKeys))]
    public void ReadsEveryKeyFormatToTheSameNormalizedKey(string key)
    {
        var expected = Assert.Single(CertificateFileReader.Read(openssl.Import($"{key}.crt"), null).Certificates).PublicKey.ExportSubjectPublicKeyInfo();
        string[] files = [$"{key}.key", $"{key}.pk8.der", $"{key}.pk8enc.pem", $"{key}.pk8enc.der", $"{key}.pk8-3des.pem", $"{key}.trad.pem", $"{key}.trad.der", $"{key}.trad-enc.pem"];
        foreach (string file in files)
        {
            var parsed = CertificateFileReader.Read(openssl.Import(file), Password);
            var material = Assert.Single(parsed.Keys);
            Assert.Equal(expected, material.SubjectPublicKeyInfo);
            Assert.Equal(key.StartsWith("rsa", StringComparison.Ordinal) ? KeyAlgorithm.Rsa : KeyAlgorithm.Ecdsa, material.Algorithm);
            Assert.Equal(int.Parse(key.TrimStart('r', 's', 'a', 'p'), System.Globalization.CultureInfo.InvariantCulture), material.KeySize);
            using var rsaOrEc = key.StartsWith("rsa", StringComparison.Ordinal) ? (AsymmetricAlgorithm)RSA.Create() : ECDsa.Create();
            if (rsaOrEc is RSA rsa) { rsa.ImportPkcs8PrivateKey(material.Pkcs8, out _); } else { ((ECDsa)rsaOrEc).ImportPkcs8PrivateKey(material.Pkcs8, out _); }
        }
    }

    [Theory]
    [MemberData(nameof(LeafKeys))]
    public void ReadsPkcs12WithModernLegacyEmptyAndNoPassword(string key)
    {
        foreach (var (file, password) in new[] { ($"{key}.aes.p12", Password), ($"{key}.legacy.p12", Password), ($"{key}.empty.p12", ""), ($"{key}.empty.p12", null), ($"{key}.nopass.p12", null) })
        {
            var parsed = CertificateFileReader.Read(openssl.Import(file), password);
            Assert.Equal(3, parsed.Certificates.Count);
            var material = Assert.Single(parsed.Keys);
            Assert.Contains(parsed.Certificates, c => c.PublicKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(material.SubjectPublicKeyInfo));
        }
    }

    [Theory]
    [MemberData(nameof(LeafKeys))]
    public void ReadsPkcs7BundlesInDerAndPem(string key)
    {
        foreach (string file in new[] { $"{key}.p7b.der", $"{key}.p7b.pem" })
        {
            var parsed = CertificateFileReader.Read(openssl.Import(file), null);
            Assert.Equal(3, parsed.Certificates.Count);
            Assert.Empty(parsed.Keys);
        }
    }

    [Fact]
    public void ReadsPkcs7InsideACertificateLabelledPemBlock()
    {
        string pem = File.ReadAllText(openssl.Path("p256.p7b.pem")).Replace("PKCS7", "CERTIFICATE", StringComparison.Ordinal);
        var parsed = CertificateFileReader.Read(new ImportFile("bundle.crt", Encoding.ASCII.GetBytes(pem)), null);
        Assert.Equal(3, parsed.Certificates.Count);
    }

    [Fact]
    public void ReadsAPemBundleWithSurroundingTextAndItsMatchingKey()
    {
        var parsed = CertificateFileReader.Read(openssl.Import("rsa3072.bundle.pem"), null);
        Assert.Equal(3, parsed.Certificates.Count);
        Assert.Single(parsed.Keys);
        Assert.Equal("O=Leaf rsa3072, CN=www.example.com", parsed.Certificates[0].Subject);
    }

    [Fact]
    public void FindsTheFormatFromTheContentNotTheFileName()
    {
        var parsed = CertificateFileReader.Read(new ImportFile("picture.png", openssl.Bytes("p384.aes.p12")), Password);
        Assert.Equal(3, parsed.Certificates.Count);
    }

    [Fact]
    public void ReadsAPkcs12WithBerIndefiniteLengthsAsNssWritesIt()
    {
        byte[] ber = ToIndefiniteLengths(openssl.Bytes("p256.aes.p12"));
        Assert.Equal(0x80, ber[1]);
        var parsed = CertificateFileReader.Read(new ImportFile("nss.p12", ber), Password);
        Assert.Equal(3, parsed.Certificates.Count);
        Assert.Single(parsed.Keys);
    }

    [Theory]
    [InlineData("ed25519.key", ImportFailureReason.UnsupportedKeyType, "Ed25519")]
    [InlineData("dsa.key", ImportFailureReason.UnsupportedKeyType, "DSA")]
    [InlineData("dsa-trad.der", ImportFailureReason.UnsupportedKeyType, "DSA")]
    [InlineData("rsa1024.key", ImportFailureReason.KeyTooWeak, "1024 bits")]
    [InlineData("rsa4160.key", ImportFailureReason.UnsupportedKeyType, "4160 bits")]
    [InlineData("secp256k1.key", ImportFailureReason.UnsupportedKeyType, "secp256k1")]
    public void RefusesKeysOutsideRsa2048To4096AndP256P384(string file, ImportFailureReason reason, string named)
    {
        var error = Assert.Throws<CertificateImportException>(() => CertificateFileReader.Read(openssl.Import(file), null));
        Assert.Equal(reason, error.Reason);
        Assert.StartsWith(file + ": the private key is ", error.Message, StringComparison.Ordinal);
        Assert.Contains(named, error.Message, StringComparison.Ordinal);
        Assert.Contains(KeyNormalizer.Accepted, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RefusesAFileWhoseKeyMatchesNoneOfItsCertificates()
    {
        byte[] content = [.. openssl.Bytes("p256.crt"), .. openssl.Bytes("other.key")];
        var error = Read("mixed.pem", content, null);
        Assert.Equal(ImportFailureReason.KeyDoesNotMatch, error.Reason);
        Assert.Equal("mixed.pem: the private key (RSA 2048) belongs to none of the 1 certificates in the file. Upload the key together with its own certificate, or upload the key and the certificates as separate files.", error.Message);
    }

    [Theory]
    [InlineData("p256.aes.p12", "the PKCS#12 file")]
    [InlineData("p256.legacy.p12", "the PKCS#12 file")]
    [InlineData("p256.pk8enc.pem", "the private key")]
    [InlineData("rsa2048.trad-enc.pem", "the private key")]
    [InlineData("p384.trad-enc.pem", "the private key")]
    public void SaysThePasswordIsWrongOrMissing(string file, string what)
    {
        var wrong = Assert.Throws<CertificateImportException>(() => CertificateFileReader.Read(openssl.Import(file), "not-the-password"));
        Assert.Equal(ImportFailureReason.WrongPassword, wrong.Reason);
        Assert.Equal($"{file}: the password is wrong for {what}. Check the password (it is case-sensitive) and upload the file again.", wrong.Message);

        var missing = Assert.Throws<CertificateImportException>(() => CertificateFileReader.Read(openssl.Import(file), null));
        Assert.Equal(ImportFailureReason.PasswordRequired, missing.Reason);
        Assert.Equal($"{file}: {what} is protected by a password. Enter the password and upload the file again.", missing.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" \r\n")]
    public void RefusesAnEmptyFile(string content)
    {
        var error = Read("leaf.crt", Encoding.ASCII.GetBytes(content), null);
        Assert.Equal(ImportFailureReason.EmptyFile, error.Reason);
        Assert.Equal("leaf.crt: the file is empty. Choose the certificate or key file again and upload it.", error.Message);
    }

    [Theory]
    [InlineData("p256.der")]
    [InlineData("p256.aes.p12")]
    [InlineData("p256.p7b.der")]
    [InlineData("p256.pk8.der")]
    public void RefusesATruncatedDerFileAsDamaged(string file)
    {
        byte[] bytes = openssl.Bytes(file);
        var error = Read(file, bytes[..(bytes.Length * 2 / 3)], Password);
        Assert.Equal(ImportFailureReason.TruncatedOrCorrupt, error.Reason);
        Assert.StartsWith(file + ": ", error.Message, StringComparison.Ordinal);
        Assert.EndsWith("export it again from its source and upload the new file.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RefusesAPemCutOffBeforeItsEndLine()
    {
        string pem = File.ReadAllText(openssl.Path("p256.crt"));
        var error = Read("cut.crt", Encoding.ASCII.GetBytes(pem[..(pem.Length / 2)]), null);
        Assert.Equal(ImportFailureReason.TruncatedOrCorrupt, error.Reason);
        Assert.StartsWith("cut.crt: the \"CERTIFICATE\" block has no \"-----END CERTIFICATE-----\" line", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RefusesACorruptedCertificate()
    {
        byte[] der = openssl.Bytes("p256.der");
        der[7] ^= 0x01; // the TBS length no longer fits the certificate
        var error = Read("corrupt.der", der, null);
        Assert.True(error.Reason is ImportFailureReason.TruncatedOrCorrupt or ImportFailureReason.UnrecognizedFormat, error.Reason.ToString());
        Assert.StartsWith("corrupt.der: ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RefusesFiveMegabytesOfRandomBytes()
    {
        byte[] random = new byte[5 * 1024 * 1024];
        new Random(42).NextBytes(random);
        random[0] = 0x17;
        var error = Read("random.crt", random, null);
        Assert.Equal(ImportFailureReason.UnrecognizedFormat, error.Reason);
        Assert.StartsWith("random.crt: the file is not in any known certificate or key format.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RefusesRandomBytesThatStartLikeASequence()
    {
        byte[] random = new byte[5 * 1024 * 1024];
        new Random(7).NextBytes(random);
        random[0] = 0x30;
        var error = Read("random.der", random, null);
        Assert.Equal(ImportFailureReason.TruncatedOrCorrupt, error.Reason);
        Assert.StartsWith("random.der: ", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D }, "a PNG picture")]
    [InlineData(new byte[] { 0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 0x4A, 0x46, 0x49, 0x46 }, "a JPEG picture")]
    public void RefusesAPictureRenamedDotCrtAndSaysWhatItIs(byte[] header, string kind)
    {
        byte[] picture = [.. header, .. new byte[2000]];
        var error = Read("photo.crt", picture, null);
        Assert.Equal(ImportFailureReason.UnrecognizedFormat, error.Reason);
        Assert.Equal($"photo.crt: the file is {kind}, not a certificate or key. Upload {ImportErrors.Formats}.", error.Message);
    }

    [Fact]
    public void RefusesAnAbsurdLengthFieldWithoutAllocatingIt()
    {
        byte[] absurd = [0x30, 0x84, 0x7F, 0xFF, 0xFF, 0xFF, 0x02, 0x01, 0x00];
        var error = Read("absurd.der", absurd, null);
        Assert.Equal(ImportFailureReason.TruncatedOrCorrupt, error.Reason);
        Assert.StartsWith("absurd.der: its ASN.1 data ends early or has length fields that do not fit the file.", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void RefusesDeeplyNestedAsn1(bool indefinite)
    {
        const int depth = 100_000;
        byte[] nested;
        if (indefinite)
        {
            nested = new byte[depth * 4];
            for (int i = 0; i < depth; i++)
            {
                nested[i * 2] = 0x30;
                nested[(i * 2) + 1] = 0x80;
            }
        }
        else
        {
            // Definite lengths: each level wraps the next, so the lengths grow outward.
            byte[] inner = [0x05, 0x00];
            for (int i = 0; i < 2000; i++)
            {
                inner = [0x30, 0x82, (byte)(inner.Length >> 8), (byte)inner.Length, .. inner];
                if (inner.Length > 60000)
                {
                    break;
                }
            }

            nested = inner;
        }

        var error = Read("deep.der", nested, null);
        Assert.Equal(ImportFailureReason.TruncatedOrCorrupt, error.Reason);
        Assert.StartsWith($"deep.der: its ASN.1 structure is nested more than {Asn1Guard.MaxDepth} levels deep", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RefusesAPemWithThousandsOfCertificates()
    {
        string one = File.ReadAllText(openssl.Path("p256.crt"));
        var pem = new StringBuilder();
        for (int i = 0; i < 5000; i++)
        {
            pem.Append(one);
        }

        var error = Read("many.pem", Encoding.ASCII.GetBytes(pem.ToString()), null);
        Assert.Equal(ImportFailureReason.TooManyObjects, error.Reason);
        Assert.StartsWith("many.pem: the file holds more than", error.Message, StringComparison.Ordinal);
        Assert.Contains($"at most {CertificateFileReader.MaxCertificatesPerFile} certificates", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RefusesTextWithoutPemBlocks()
    {
        var error = Read("notes.txt", Encoding.ASCII.GetBytes("hello, this is not a certificate\n"), null);
        Assert.Equal(ImportFailureReason.UnrecognizedFormat, error.Reason);
        Assert.StartsWith("notes.txt: the file is text without any", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RefusesACertificateRequestAndSaysWhatToDoWithIt()
    {
        var error = Read("p256.csr", openssl.Bytes("p256.csr"), null);
        Assert.Equal(ImportFailureReason.UnrecognizedFormat, error.Reason);
        Assert.StartsWith("p256.csr: the file is a certificate request (CSR), not a certificate", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NamesOnlyTheFileNotItsDirectoryAndNeverKeyBytes()
    {
        var error = Read("/tmp/evil\n/key.pem", openssl.Bytes("rsa1024.key"), null);
        Assert.StartsWith("key.pem: ", error.Message, StringComparison.Ordinal);
        string keyBase64 = File.ReadAllText(openssl.Path("rsa1024.key")).Split('\n')[1];
        Assert.DoesNotContain(keyBase64[..20], error.Message, StringComparison.Ordinal);
    }

    private static CertificateImportException Read(string name, byte[] content, string? password) =>
        Assert.Throws<CertificateImportException>(() => CertificateFileReader.Read(new ImportFile(name, content), password));

    // Re-encodes every constructed element with an indefinite length (X.690 8.1.3.6), as NSS's pk12util does.
    private static byte[] ToIndefiniteLengths(byte[] der)
    {
        var output = new List<byte>();
        Convert(der, output);
        return output.ToArray();

        static void Convert(ReadOnlySpan<byte> data, List<byte> output)
        {
            int pos = 0;
            while (pos < data.Length)
            {
                byte tag = data[pos];
                int lengthStart = pos + 1;
                int length = data[lengthStart];
                int headerLength = 2;
                if (length >= 0x80)
                {
                    int count = length & 0x7F;
                    length = 0;
                    for (int i = 0; i < count; i++)
                    {
                        length = (length << 8) | data[lengthStart + 1 + i];
                    }

                    headerLength += count;
                }

                var content = data.Slice(pos + headerLength, length);
                if ((tag & 0x20) != 0)
                {
                    output.Add(tag);
                    output.Add(0x80);
                    Convert(content, output);
                    output.Add(0);
                    output.Add(0);
                }
                else
                {
                    output.AddRange(data.Slice(pos, headerLength + length));
                }

                pos += headerLength + length;
            }
        }
    }
}

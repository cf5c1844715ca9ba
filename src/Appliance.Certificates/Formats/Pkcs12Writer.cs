using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Org.BouncyCastle.Crypto.Digests;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Parameters;

namespace Appliance.Certificates.Formats;

/// <summary>
/// Writes a PKCS#12 PFX (RFC 7292) as OpenSSL 3 does by default: certificates in a PBES2 (PBKDF2-SHA256,
/// AES-256-CBC) encrypted safe, the key in a PBES2 shrouded key bag, an HMAC-SHA256 MAC. Written here rather
/// than through X509Certificate2Collection.ExportPkcs12 because that cannot set a friendly name on Linux.
/// </summary>
internal static class Pkcs12Writer
{
    /// <summary>PBKDF2 and MAC iterations; the MAC's count matters as much, a weak MAC would let a password be guessed cheaply.</summary>
    internal const int Iterations = 600_000;

    private const string Data = "1.2.840.113549.1.7.1";
    private const string EncryptedData = "1.2.840.113549.1.7.6";
    private const string CertBag = "1.2.840.113549.1.12.10.1.3";
    private const string ShroudedKeyBag = "1.2.840.113549.1.12.10.1.2";
    private const string X509Certificate = "1.2.840.113549.1.9.22.1";
    private const string FriendlyName = "1.2.840.113549.1.9.20";
    private const string LocalKeyId = "1.2.840.113549.1.9.21";
    private const string Pbes2 = "1.2.840.113549.1.5.13";
    private const string Pbkdf2 = "1.2.840.113549.1.5.12";
    private const string HmacSha256 = "1.2.840.113549.2.9";
    private const string Aes256Cbc = "2.16.840.1.101.3.4.1.42";
    private const string Sha256 = "2.16.840.1.101.3.4.2.1";

    internal static byte[] Write(X509Certificate2 certificate, PrivateKeyMaterial? key, IEnumerable<X509Certificate2> chain, string passphrase, string friendlyName)
    {
        // localKeyId ties the key bag to its certificate bag (RFC 7292 4.2, PKCS#9 localKeyId).
        byte[] localKeyId = SHA256.HashData(certificate.RawData)[..20];

        var certificates = new AsnWriter(AsnEncodingRules.DER);
        using (certificates.PushSequence())
        {
            WriteCertificateBag(certificates, certificate.RawData, friendlyName, key is null ? null : localKeyId);
            foreach (var extra in chain.Where(c => !c.RawData.AsSpan().SequenceEqual(certificate.RawData)))
            {
                WriteCertificateBag(certificates, extra.RawData, null, null);
            }
        }

        var authenticatedSafe = new AsnWriter(AsnEncodingRules.DER);
        using (authenticatedSafe.PushSequence())
        {
            WriteEncryptedContent(authenticatedSafe, certificates.Encode(), passphrase);
            if (key is not null)
            {
                var keys = new AsnWriter(AsnEncodingRules.DER);
                using (keys.PushSequence())
                using (keys.PushSequence())
                {
                    keys.WriteObjectIdentifier(ShroudedKeyBag);
                    using (keys.PushSequence(Explicit0))
                    {
                        keys.WriteEncodedValue(EncryptKey(key, passphrase));
                    }

                    WriteAttributes(keys, friendlyName, localKeyId);
                }

                WriteDataContent(authenticatedSafe, keys.Encode());
            }
        }

        byte[] safe = authenticatedSafe.Encode();
        byte[] salt = RandomNumberGenerator.GetBytes(16);
        var pfx = new AsnWriter(AsnEncodingRules.DER);
        using (pfx.PushSequence())
        {
            pfx.WriteInteger(3);
            WriteDataContent(pfx, safe);
            using (pfx.PushSequence())
            {
                using (pfx.PushSequence())
                {
                    using (pfx.PushSequence())
                    {
                        pfx.WriteObjectIdentifier(Sha256);
                        pfx.WriteNull();
                    }

                    pfx.WriteOctetString(Mac(passphrase, salt, safe));
                }

                pfx.WriteOctetString(salt);
                pfx.WriteInteger(Iterations);
            }
        }

        return pfx.Encode();
    }

    private static readonly Asn1Tag Explicit0 = new(TagClass.ContextSpecific, 0, isConstructed: true);

    private static byte[] EncryptKey(PrivateKeyMaterial key, string passphrase)
    {
        using var opened = KeyMaterial.Open(key);
        return opened.ExportEncryptedPkcs8PrivateKey(passphrase, new PbeParameters(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, Iterations));
    }

    private static void WriteCertificateBag(AsnWriter writer, byte[] der, string? friendlyName, byte[]? localKeyId)
    {
        using (writer.PushSequence())
        {
            writer.WriteObjectIdentifier(CertBag);
            using (writer.PushSequence(Explicit0))
            using (writer.PushSequence())
            {
                writer.WriteObjectIdentifier(X509Certificate);
                using (writer.PushSequence(Explicit0))
                {
                    writer.WriteOctetString(der);
                }
            }

            if (friendlyName is not null)
            {
                WriteAttributes(writer, friendlyName, localKeyId);
            }
        }
    }

    private static void WriteAttributes(AsnWriter writer, string friendlyName, byte[]? localKeyId)
    {
        using (writer.PushSetOf())
        {
            using (writer.PushSequence())
            {
                writer.WriteObjectIdentifier(FriendlyName);
                using (writer.PushSetOf())
                {
                    writer.WriteCharacterString(UniversalTagNumber.BMPString, friendlyName);
                }
            }

            if (localKeyId is not null)
            {
                using (writer.PushSequence())
                {
                    writer.WriteObjectIdentifier(LocalKeyId);
                    using (writer.PushSetOf())
                    {
                        writer.WriteOctetString(localKeyId);
                    }
                }
            }
        }
    }

    private static void WriteDataContent(AsnWriter writer, byte[] content)
    {
        using (writer.PushSequence())
        {
            writer.WriteObjectIdentifier(Data);
            using (writer.PushSequence(Explicit0))
            {
                writer.WriteOctetString(content);
            }
        }
    }

    // RFC 5652 8 EncryptedData with RFC 8018 6.2 PBES2 parameters.
    private static void WriteEncryptedContent(AsnWriter writer, byte[] plaintext, string passphrase)
    {
        byte[] salt = RandomNumberGenerator.GetBytes(16);
        byte[] iv = RandomNumberGenerator.GetBytes(16);
        byte[] key = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(passphrase), salt, Iterations, HashAlgorithmName.SHA256, 32);
        byte[] ciphertext;
        using (var aes = Aes.Create())
        {
            aes.Key = key;
            ciphertext = aes.EncryptCbc(plaintext, iv, PaddingMode.PKCS7);
        }

        CryptographicOperations.ZeroMemory(key);
        using (writer.PushSequence())
        {
            writer.WriteObjectIdentifier(EncryptedData);
            using (writer.PushSequence(Explicit0))
            using (writer.PushSequence())
            {
                writer.WriteInteger(0);
                using (writer.PushSequence())
                {
                    writer.WriteObjectIdentifier(Data);
                    using (writer.PushSequence())
                    {
                        writer.WriteObjectIdentifier(Pbes2);
                        using (writer.PushSequence())
                        {
                            using (writer.PushSequence())
                            {
                                writer.WriteObjectIdentifier(Pbkdf2);
                                using (writer.PushSequence())
                                {
                                    writer.WriteOctetString(salt);
                                    writer.WriteInteger(Iterations);
                                    using (writer.PushSequence())
                                    {
                                        writer.WriteObjectIdentifier(HmacSha256);
                                        writer.WriteNull();
                                    }
                                }
                            }

                            using (writer.PushSequence())
                            {
                                writer.WriteObjectIdentifier(Aes256Cbc);
                                writer.WriteOctetString(iv);
                            }
                        }
                    }

                    writer.WriteOctetString(ciphertext, new Asn1Tag(TagClass.ContextSpecific, 0));
                }
            }
        }
    }

    // RFC 7292 B.2 key derivation (ID 3 = MAC key) with SHA-256, then HMAC-SHA256 over the authenticated safe.
    private static byte[] Mac(string passphrase, byte[] salt, byte[] data)
    {
        var generator = new Pkcs12ParametersGenerator(new Sha256Digest());
        generator.Init(Org.BouncyCastle.Crypto.PbeParametersGenerator.Pkcs12PasswordToBytes(passphrase.ToCharArray()), salt, Iterations);
        byte[] key = ((KeyParameter)generator.GenerateDerivedMacParameters(256)).GetKey();
        try
        {
            return HMACSHA256.HashData(key, data);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }
}

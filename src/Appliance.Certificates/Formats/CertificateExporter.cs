using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Appliance.Certificates.Formats;

/// <summary>Writes certificates and keys in the export formats of the "Manage certificates" page.</summary>
public static class CertificateExporter
{
    /// <summary>Shortest passphrase accepted for a file that holds a private key.</summary>
    public const int MinPassphraseLength = 8;

    /// <summary>PBKDF2 iterations for encrypted PKCS#8 (OWASP 2023 figure for PBKDF2-HMAC-SHA256).</summary>
    internal const int Pkcs8Iterations = 600_000;

    /// <summary>Each certificate as an RFC 7468 "CERTIFICATE" block, in the given order.</summary>
    public static string ToPem(IEnumerable<X509Certificate2> certificates)
    {
        ArgumentNullException.ThrowIfNull(certificates);
        var pem = new StringBuilder();
        foreach (var certificate in certificates)
        {
            pem.Append(certificate.ExportCertificatePem()).Append('\n');
        }

        return pem.ToString();
    }

    /// <summary>Encrypted PKCS#8 PEM (PBES2, AES-256-CBC, PBKDF2-SHA256).</summary>
    /// <remarks>Throws <see cref="CertificateExportException"/> when the passphrase is shorter than <see cref="MinPassphraseLength"/>.</remarks>
    public static string ToEncryptedPkcs8Pem(PrivateKeyMaterial key, string passphrase)
    {
        ArgumentNullException.ThrowIfNull(key);
        CheckPassphrase(passphrase);
        using var opened = KeyMaterial.Open(key);
        return opened.ExportEncryptedPkcs8PrivateKeyPem(passphrase, new PbeParameters(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, Pkcs8Iterations)) + "\n";
    }

    /// <summary>Unencrypted PKCS#8 PEM ("PRIVATE KEY"), for an export in clear the admin confirmed.</summary>
    public static string ToPkcs8Pem(PrivateKeyMaterial key)
    {
        ArgumentNullException.ThrowIfNull(key);
        using var opened = KeyMaterial.Open(key);
        return opened.ExportPkcs8PrivateKeyPem() + "\n";
    }

    /// <summary>PKCS#12 with AES-256/PBKDF2 protection and a SHA-256 MAC; key optional.</summary>
    /// <remarks>The certificate bag (and the key bag) carry <paramref name="friendlyName"/>; chain certificates follow the
    /// certificate (a copy of the certificate itself is skipped). Throws <see cref="CertificateExportException"/> when the
    /// passphrase is shorter than <see cref="MinPassphraseLength"/> or the key does not belong to the certificate.</remarks>
    public static byte[] ToPkcs12(X509Certificate2 certificate, PrivateKeyMaterial? key, IEnumerable<X509Certificate2> chain, string passphrase, string friendlyName)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(chain);
        ArgumentNullException.ThrowIfNull(friendlyName);
        CheckPassphrase(passphrase);
        if (key is not null && !certificate.PublicKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(key.SubjectPublicKeyInfo))
        {
            throw new CertificateExportException("The private key does not belong to this certificate, so it cannot be exported with it.");
        }

        return Pkcs12Writer.Write(certificate, key, chain, passphrase, friendlyName);
    }

    /// <summary>A degenerate PKCS#7 SignedData (DER) holding only the certificates.</summary>
    /// <remarks>RFC 5652 5.1 with no signers (the "certs-only" form of RFC 8551 3.2.2); certificates keep the given order.</remarks>
    public static byte[] ToPkcs7(IEnumerable<X509Certificate2> certificates)
    {
        ArgumentNullException.ThrowIfNull(certificates);
        var writer = new AsnWriter(AsnEncodingRules.DER);
        var explicit0 = new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true);
        using (writer.PushSequence())
        {
            writer.WriteObjectIdentifier("1.2.840.113549.1.7.2");
            using (writer.PushSequence(explicit0))
            using (writer.PushSequence())
            {
                writer.WriteInteger(1);
                using (writer.PushSetOf())
                {
                    // no digest algorithms: nothing is signed
                }

                using (writer.PushSequence())
                {
                    writer.WriteObjectIdentifier("1.2.840.113549.1.7.1");
                }

                // certificates [0] IMPLICIT SET OF: written as a constructed [0] so the given order is kept
                // (DER would sort a SET OF; the order carries the chain for readers that care).
                using (writer.PushSequence(explicit0))
                {
                    foreach (var certificate in certificates)
                    {
                        writer.WriteEncodedValue(certificate.RawData);
                    }
                }

                using (writer.PushSetOf())
                {
                    // no signer infos
                }
            }
        }

        return writer.Encode();
    }

    private static void CheckPassphrase(string passphrase)
    {
        if (passphrase is null || passphrase.Length < MinPassphraseLength)
        {
            throw new CertificateExportException($"The passphrase has {passphrase?.Length ?? 0} characters; at least {MinPassphraseLength} are required to export a private key. Enter a longer passphrase.");
        }
    }
}

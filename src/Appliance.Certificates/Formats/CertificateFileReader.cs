using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Pkcs;
using Org.BouncyCastle.Asn1.Sec;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Asn1.X9;
using Org.BouncyCastle.OpenSsl;
using Org.BouncyCastle.Pkcs;
using BcContentInfo = Org.BouncyCastle.Asn1.Cms.ContentInfo;
using BcSignedData = Org.BouncyCastle.Asn1.Cms.SignedData;

namespace Appliance.Certificates.Formats;

/// <summary>Reads one uploaded file, format found from the content.</summary>
public static class CertificateFileReader
{
    /// <summary>Maximum certificates accepted in one file (a PEM with thousands is refused).</summary>
    public const int MaxCertificatesPerFile = 100;

    /// <summary>Largest file read; a real bundle of 100 certificates is well under 1 MiB.</summary>
    public const int MaxFileBytes = 10 * 1024 * 1024;

    /// <summary>Most private keys accepted in one file.</summary>
    internal const int MaxKeysPerFile = 10;

    /// <summary>
    /// Parses certificates and keys; throws <see cref="CertificateImportException"/> with a clear reason. The files of
    /// one import share one <paramref name="budget"/> (its cancellation throws <see cref="OperationCanceledException"/>);
    /// without one, the file gets a budget of its own.
    /// </summary>
    public static ParsedFile Read(ImportFile file, string? password, KeyDerivationBudget? budget = null)
    {
        ArgumentNullException.ThrowIfNull(file);
        string name = DisplayName(file.FileName);
        var reading = new FileReading(name, password, budget ?? new KeyDerivationBudget());
        try
        {
            reading.Read(file.Content.Span);
            return reading.Finish();
        }
        catch (CertificateImportException)
        {
            reading.Discard();
            throw;
        }
        catch (OperationCanceledException)
        {
            reading.Discard();
            throw;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Whatever BouncyCastle or .NET throw on input the checks above let through is still bad input; the
            // original is kept as the inner exception (the fuzz driver counts a NullReferenceException here as a crash).
            reading.Discard();
            throw ImportErrors.Damaged(name, "the file could not be read", e);
        }
    }

    /// <summary>The file name as it appears in messages: no directories, no control characters, bounded length.</summary>
    internal static string DisplayName(string? fileName)
    {
        string name = Path.GetFileName(fileName ?? string.Empty);
        name = new string(name.Where(c => !char.IsControl(c)).ToArray()).Trim();
        if (name.Length > 80)
        {
            name = name[..77] + "...";
        }

        return name.Length == 0 ? "The uploaded file" : name;
    }

    /// <summary>The state of reading one file: what was found so far, in file order.</summary>
    private sealed class FileReading(string fileName, string? password, KeyDerivationBudget budget)
    {
        private const string KeyWhat = "the private key";

        private readonly List<X509Certificate2> _certificates = [];
        private readonly HashSet<string> _thumbprints = new(StringComparer.Ordinal);
        private readonly List<PrivateKeyMaterial> _keys = [];

        // The curve of an "EC PARAMETERS" block (`openssl ecparam -genkey` writes one before the key), for a key without its own.
        private DerObjectIdentifier? _curve;

        internal void Read(ReadOnlySpan<byte> content)
        {
            if (IsBlank(content))
            {
                throw new CertificateImportException(ImportFailureReason.EmptyFile, fileName,
                    $"{fileName}: the file is empty. Choose the certificate or key file again and upload it.");
            }

            if (content.Length > MaxFileBytes)
            {
                throw new CertificateImportException(ImportFailureReason.FileTooLarge, fileName,
                    $"{fileName}: the file has {content.Length} bytes; at most {MaxFileBytes} are accepted. Upload the certificate, chain and key files separately.");
            }

            if (PemBlock.LooksLikePem(content))
            {
                foreach (var block in PemBlock.Parse(content, fileName, MaxCertificatesPerFile + MaxKeysPerFile))
                {
                    if (block.Label == "EC PARAMETERS")
                    {
                        ReadEcParameters(block.Der);
                    }
                    else if (block.HasHeaders && block.Label.EndsWith("PRIVATE KEY", StringComparison.Ordinal))
                    {
                        ReadEncryptedPem(block);
                    }
                    else
                    {
                        ReadDer(block.Der);
                    }
                }

                return;
            }

            if (TryBase64(content, out byte[]? decoded))
            {
                // Some tools write bare Base64 DER without PEM armour.
                ReadDer(decoded);
                return;
            }

            if (content[0] != 0x30)
            {
                throw ImportErrors.Unrecognized(fileName, Describe(content));
            }

            ReadDer(content.ToArray());
        }

        internal ParsedFile Finish()
        {
            if (_certificates.Count == 0 && _keys.Count == 0)
            {
                if (_curve is not null)
                {
                    throw ImportErrors.Unrecognized(fileName, $"the file holds only EC curve parameters ({KeyNormalizer.CurveName(_curve.Id)}), no private key; upload the file with the \"EC PRIVATE KEY\" block");
                }


                throw ImportErrors.Unrecognized(fileName, "the file holds no certificate and no private key");
            }

            if (_certificates.Count > 0)
            {
                var publicKeys = _certificates.Select(c => c.PublicKey.ExportSubjectPublicKeyInfo()).ToList();
                foreach (var key in _keys)
                {
                    if (!publicKeys.Any(spki => spki.AsSpan().SequenceEqual(key.SubjectPublicKeyInfo)))
                    {
                        throw new CertificateImportException(ImportFailureReason.KeyDoesNotMatch, fileName,
                            $"{fileName}: the private key ({KeyTypeServing.Name(key.Algorithm)} {key.KeySize}) belongs to none of the {_certificates.Count} certificates in the file. Upload the key together with its own certificate, or upload the key and the certificates as separate files.");
                    }
                }
            }

            return new ParsedFile(fileName, _certificates.ToArray(), _keys.ToArray());
        }

        internal void Discard()
        {
            foreach (var key in _keys)
            {
                key.Dispose();
            }

            foreach (var certificate in _certificates)
            {
                certificate.Dispose();
            }
        }

        private void ReadDer(byte[] der)
        {
            switch (Asn1Guard.Check(der, out int length))
            {
                case Asn1Guard.Verdict.TooDeep:
                    throw ImportErrors.Damaged(fileName, $"its ASN.1 structure is nested more than {Asn1Guard.MaxDepth} levels deep, which no certificate or key needs");
                case Asn1Guard.Verdict.Malformed:
                    throw der.Length > 0 && der[0] == 0x30
                        ? ImportErrors.Damaged(fileName, "its ASN.1 data ends early or has length fields that do not fit the file")
                        : ImportErrors.Unrecognized(fileName, Describe(der));
            }

            if (der.AsSpan(length).IndexOfAnyExcept((byte)0, (byte)'\n', (byte)'\r') >= 0)
            {
                throw ImportErrors.Damaged(fileName, $"unexpected data follows the first {length} bytes");
            }

            if (Asn1Object.FromByteArray(der.AsSpan(0, length).ToArray()) is not Asn1Sequence sequence)
            {
                throw ImportErrors.Unrecognized(fileName, Describe(der));
            }

            Classify(sequence, der.AsSpan(0, length).ToArray());
        }

        // Decides the format from the ASN.1 shape alone (file names and PEM labels can lie).
        private void Classify(Asn1Sequence s, byte[] der)
        {
            int count = s.Count;

            // RFC 5280 4.1: Certificate = { tbsCertificate, signatureAlgorithm, signatureValue }.
            if (count == 3 && s[0] is Asn1Sequence tbs && s[1] is Asn1Sequence && s[2] is DerBitString)
            {
                if (tbs.Count >= 6 || (tbs.Count > 0 && tbs[0] is Asn1TaggedObject))
                {
                    AddCertificate(der);
                    return;
                }

                if (tbs.Count == 4 && tbs[0] is DerInteger && tbs[3] is Asn1TaggedObject)
                {
                    throw ImportErrors.Unrecognized(fileName, "the file is a certificate request (CSR), not a certificate; send it to your certificate authority and upload the certificate it issues");
                }

                throw ImportErrors.Unrecognized(fileName, "the file is signed ASN.1 data but not a certificate (perhaps a revocation list)");
            }

            // RFC 5652 3: ContentInfo = { contentType, [0] content }; PKCS#7 bundles are SignedData.
            if (count == 2 && s[0] is DerObjectIdentifier contentType)
            {
                if (!contentType.Equals(PkcsObjectIdentifiers.SignedData))
                {
                    throw ImportErrors.Unrecognized(fileName, $"the file is PKCS#7 data of type {contentType.Id}, not a certificate bundle");
                }

                ReadPkcs7(s);
                return;
            }

            // RFC 7292 4: PFX = { version 3, authSafe, macData OPTIONAL }.
            if (count is 2 or 3 && s[0] is DerInteger version && version.HasValue(3) && s[1] is Asn1Sequence)
            {
                Pkcs12Reader.Read(s, fileName, password, budget, AddCertificate, AddPrivateKeyInfo);
                return;
            }

            // RFC 5958 2: OneAsymmetricKey = { version, privateKeyAlgorithm, privateKey, ... }.
            if (count >= 3 && s[0] is DerInteger && s[1] is Asn1Sequence && s[2] is Asn1OctetString)
            {
                AddPrivateKeyInfo(der);
                return;
            }

            // RFC 5958 3: EncryptedPrivateKeyInfo = { encryptionAlgorithm, encryptedData }.
            if (count == 2 && s[0] is Asn1Sequence && s[1] is Asn1OctetString)
            {
                ReadEncryptedPkcs8(Asn1Structure.Decode(() => EncryptedPrivateKeyInfo.GetInstance(s), fileName, "encrypted private key (RFC 5958 3)"));
                return;
            }

            // RFC 5280 4.1.2.7: a bare SubjectPublicKeyInfo.
            if (count == 2 && s[0] is Asn1Sequence && s[1] is DerBitString)
            {
                throw ImportErrors.Unrecognized(fileName, "the file holds only a public key; upload the certificate or the private key instead");
            }

            if (count > 0 && s.Cast<Asn1Encodable>().All(e => e is DerInteger))
            {
                // RFC 8017 A.1.2 RSAPrivateKey has 9 integers (version 0); OpenSSL's legacy DSA key has 6.
                if (count == 9 && ((DerInteger)s[0]).HasValue(0))
                {
                    var rsa = Asn1Structure.Decode(() => RsaPrivateKeyStructure.GetInstance(s), fileName, "RSA private key (RFC 8017 A.1.2)");
                    AddPrivateKeyInfo(new PrivateKeyInfo(new AlgorithmIdentifier(PkcsObjectIdentifiers.RsaEncryption, DerNull.Instance), rsa).GetEncoded(Asn1Encodable.Der));
                    return;
                }

                if (count == 6)
                {
                    throw KeyNormalizer.Unsupported(fileName, "a DSA key");
                }
            }

            // RFC 5915 3: ECPrivateKey = { version 1, privateKey, [0] parameters, [1] publicKey }.
            if (count >= 2 && s[0] is DerInteger ecVersion && ecVersion.HasValue(1) && s[1] is Asn1OctetString)
            {
                var ec = Asn1Structure.Decode(() => ECPrivateKeyStructure.GetInstance(s), fileName, "EC private key (RFC 5915)");
                if ((ec.Parameters ?? _curve) is not DerObjectIdentifier curve)
                {
                    throw KeyNormalizer.Unsupported(fileName, "an EC key with explicit or missing curve parameters");
                }

                AddPrivateKeyInfo(new PrivateKeyInfo(new AlgorithmIdentifier(X9ObjectIdentifiers.IdECPublicKey, curve), ec).GetEncoded(Asn1Encodable.Der));
                return;
            }

            throw ImportErrors.Unrecognized(fileName, "the file holds ASN.1 data that is neither a certificate nor a private key");
        }

        // RFC 5480 2.1.1 ECParameters as `openssl ecparam` writes them: a named curve is an OID (explicit parameters, a
        // SEQUENCE, are refused with the key that uses them). The block itself holds no key.
        private void ReadEcParameters(byte[] der)
        {
            if (Asn1Guard.Check(der, out int length) != Asn1Guard.Verdict.Ok || length != der.Length)
            {
                throw ImportErrors.Damaged(fileName, "the \"EC PARAMETERS\" block is damaged");
            }

            if (Asn1Object.FromByteArray(der) is DerObjectIdentifier curve)
            {
                _curve = curve;
            }
        }

        private void ReadPkcs7(Asn1Sequence s)
        {
            var set = Asn1Structure.Decode(() => BcSignedData.GetInstance(BcContentInfo.GetInstance(s).Content).Certificates, fileName, "PKCS#7 structure (RFC 5652)");
            if (set is null || set.Count == 0)
            {
                throw ImportErrors.Unrecognized(fileName, "the PKCS#7 file holds no certificates");
            }

            if (set.Count > MaxCertificatesPerFile)
            {
                throw ImportErrors.TooMany(fileName, set.Count);
            }

            foreach (var element in set)
            {
                // RFC 5652 10.2.2: only the plain Certificate choice is a certificate; tagged choices are attribute certificates.
                if (element.ToAsn1Object() is Asn1Sequence certificate)
                {
                    AddCertificate(certificate.GetEncoded(Asn1Encodable.Der));
                }
            }
        }

        private void ReadEncryptedPkcs8(EncryptedPrivateKeyInfo info)
        {
            long work = PbeGuard.Check(info.EncryptionAlgorithm, fileName);
            if (password is null)
            {
                throw ImportErrors.PasswordRequired(fileName, KeyWhat);
            }

            budget.Charge(work, fileName);

            byte[] der;
            try
            {
                der = PrivateKeyInfoFactory.CreatePrivateKeyInfo(PbeGuard.CharsFor(info.EncryptionAlgorithm, password.ToCharArray()), info).GetEncoded(Asn1Encodable.Der);
            }
            catch (Exception e) when (e is not CertificateImportException)
            {
                // A wrong password shows as bad padding or as garbage that is not a PrivateKeyInfo.
                throw ImportErrors.WrongPassword(fileName, KeyWhat);
            }

            AddPrivateKeyInfo(der);
        }

        // RFC 1421 "Proc-Type: 4,ENCRYPTED" keys as OpenSSL writes them with -traditional; .NET cannot read these.
        private void ReadEncryptedPem(PemBlock block)
        {
            // RFC 1423 keys derive with OpenSSL's EVP_BytesToKey: one MD5 round.
            budget.Charge(1, fileName);
            object? read;
            try
            {
                using var reader = new PemReader(new StringReader(block.Text), password is null ? null : new PasswordFinder(password));
                read = reader.ReadObject();
            }
            catch (Exception e) when (e is not CertificateImportException)
            {
                throw password is null ? ImportErrors.PasswordRequired(fileName, KeyWhat) : ImportErrors.WrongPassword(fileName, KeyWhat);
            }

            var key = read switch
            {
                Org.BouncyCastle.Crypto.AsymmetricCipherKeyPair pair => pair.Private,
                Org.BouncyCastle.Crypto.AsymmetricKeyParameter { IsPrivate: true } single => single,
                _ => throw ImportErrors.Unrecognized(fileName, $"the \"{block.Label}\" block holds no private key"),
            };

            if (key is Org.BouncyCastle.Crypto.Parameters.DsaPrivateKeyParameters)
            {
                throw KeyNormalizer.Unsupported(fileName, "a DSA key");
            }

            AddPrivateKeyInfo(PrivateKeyInfoFactory.CreatePrivateKeyInfo(key).GetEncoded(Asn1Encodable.Der));
        }

        private void AddCertificate(byte[] der)
        {
            if (_certificates.Count + _keys.Count >= MaxCertificatesPerFile + MaxKeysPerFile || _certificates.Count >= MaxCertificatesPerFile)
            {
                throw ImportErrors.TooMany(fileName, _certificates.Count + 1);
            }

            X509Certificate2 certificate;
            try
            {
                certificate = X509CertificateLoader.LoadCertificate(der);
            }
            catch (CryptographicException)
            {
                throw ImportErrors.Damaged(fileName, "a certificate in the file is damaged");
            }

            if (_thumbprints.Add(certificate.GetCertHashString(HashAlgorithmName.SHA256)))
            {
                _certificates.Add(certificate);
            }
            else
            {
                certificate.Dispose();
            }
        }

        private void AddPrivateKeyInfo(byte[] pkcs8)
        {
            try
            {
                if (_keys.Count >= MaxKeysPerFile)
                {
                    throw new CertificateImportException(ImportFailureReason.TooManyObjects, fileName,
                        $"{fileName}: the file holds more than {MaxKeysPerFile} private keys. Upload each key with its certificate.");
                }

                var key = KeyNormalizer.FromPkcs8(pkcs8, fileName);
                if (_keys.Any(k => k.SubjectPublicKeyInfo.AsSpan().SequenceEqual(key.SubjectPublicKeyInfo)))
                {
                    key.Dispose();
                    return;
                }

                _keys.Add(key);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(pkcs8);
            }
        }

        private static bool IsBlank(ReadOnlySpan<byte> content) =>
            content.IndexOfAnyExcept(" \t\r\n\0"u8) < 0;

        private static bool TryBase64(ReadOnlySpan<byte> content, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out byte[]? der)
        {
            der = null;
            if (content.Length < 16 || content.IndexOfAnyExcept("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/= \t\r\n"u8) >= 0)
            {
                return false;
            }

            try
            {
                der = Convert.FromBase64String(System.Text.Encoding.ASCII.GetString(content));
                return der.Length > 0 && der[0] == 0x30;
            }
            catch (FormatException)
            {
                return false;
            }
        }

        // Names common non-certificate files so the admin sees what went wrong ("a PNG picture").
        private static string Describe(ReadOnlySpan<byte> content)
        {
            string? kind =
                content.StartsWith((ReadOnlySpan<byte>)[0x89, 0x50, 0x4E, 0x47]) ? "a PNG picture" :
                content.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF]) ? "a JPEG picture" :
                content.StartsWith("GIF8"u8) ? "a GIF picture" :
                content.StartsWith("%PDF"u8) ? "a PDF document" :
                content.StartsWith("PK\x03\x04"u8) ? "a ZIP archive" :
                content.StartsWith((ReadOnlySpan<byte>)[0x1F, 0x8B]) ? "a gzip archive" :
                null;
            if (kind is not null)
            {
                return $"the file is {kind}, not a certificate or key";
            }

            bool text = content.Length > 0 && content[..Math.Min(content.Length, 4096)].IndexOfAnyInRange((byte)0, (byte)8) < 0;
            return text
                ? "the file is text without any \"-----BEGIN ...-----\" block, not a certificate or key"
                : "the file is not in any known certificate or key format";
        }
    }

    private sealed class PasswordFinder(string password) : IPasswordFinder
    {
        public char[] GetPassword() => password.ToCharArray();
    }
}

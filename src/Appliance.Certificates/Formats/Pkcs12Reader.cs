using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Pkcs;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Macs;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Pkcs;
using Org.BouncyCastle.Security;

namespace Appliance.Certificates.Formats;

/// <summary>
/// Reads a PKCS#12 PFX (RFC 7292) bag by bag. BouncyCastle's Pkcs12Store is not used because it
/// keeps only certificates that carry a friendly name or local key id, and a bundle's chain
/// certificates often carry neither; its primitives decrypt legacy RC2/3DES and PBES2 alike,
/// without depending on OpenSSL's legacy provider.
/// </summary>
internal static class Pkcs12Reader
{
    private const string What = "the PKCS#12 file";
    private const string Layout = "PKCS#12 structure (RFC 7292)";

    internal static void Read(Asn1Sequence sequence, string fileName, string? password, KeyDerivationBudget budget, Action<byte[]> addCertificate, Action<byte[]> addPrivateKeyInfo)
    {
        var pfx = Asn1Structure.Decode(() => Pfx.GetInstance(sequence), fileName, Layout);
        var authSafe = pfx.AuthSafe;
        if (!authSafe.ContentType.Equals(PkcsObjectIdentifiers.Data))
        {
            // RFC 7292 4: public-key integrity mode (signedData) needs the signer's key; browsers and OpenSSL never write it.
            throw ImportErrors.Unrecognized(fileName, "the PKCS#12 file uses public-key integrity protection, which is not supported; export it again with a password");
        }

        byte[] safeBytes = Asn1Structure.Decode(() => Asn1OctetString.GetInstance(authSafe.Content).GetOctets(), fileName, Layout);
        var contents = Asn1Structure.Decode(() => AuthenticatedSafe.GetInstance(Asn1Object.FromByteArray(safeBytes)).GetContentInfo(), fileName, Layout);
        int macIterations = pfx.MacData is { } macData ? PbeGuard.CheckCount(macData.IterationCount, fileName) : 0;

        // All the derivation work in sight is summed before the first one runs: thousands of elements at the
        // per-element cap are refused at once, not after hours.
        long ahead = macIterations;
        foreach (var info in contents)
        {
            if (info.ContentType.Equals(PkcsObjectIdentifiers.EncryptedData) && Encrypted(info, fileName) is { Content: not null } encrypted)
            {
                ahead += PbeGuard.Check(encrypted.EncryptionAlgorithm, fileName);
            }
            else if (info.ContentType.Equals(PkcsObjectIdentifiers.Data))
            {
                ahead += ShroudedWork(PlainBags(info, fileName), fileName);
            }
        }

        budget.Reserve(ahead, fileName);

        char[] chars = PbeGuard.Chars(password);
        bool wrongZero = false;
        bool macVerified = false;
        if (pfx.MacData is { } mac)
        {
            budget.Charge(macIterations, fileName);
            if (!MacMatches(mac, chars, false, safeBytes))
            {
                // An empty password is encoded either as a lone BMPString terminator or as nothing (RFC 7292 B.1 is read both ways).
                if (chars.Length == 0 && Charged(budget, macIterations, fileName) && MacMatches(mac, chars, true, safeBytes))
                {
                    wrongZero = true;
                }
                else
                {
                    throw password is null ? ImportErrors.PasswordRequired(fileName, What) : ImportErrors.WrongPassword(fileName, What);
                }
            }

            macVerified = true;
        }

        // A failure to decrypt after the MAC verified means damage; without a MAC it is the password's fault.
        CertificateImportException DecryptFailed() => macVerified
            ? ImportErrors.Damaged(fileName, "an encrypted part of the PKCS#12 file could not be decrypted")
            : password is null ? ImportErrors.PasswordRequired(fileName, What) : ImportErrors.WrongPassword(fileName, What);

        foreach (var info in contents)
        {
            Asn1Sequence bags;
            if (info.ContentType.Equals(PkcsObjectIdentifiers.Data))
            {
                bags = PlainBags(info, fileName);
            }
            else if (info.ContentType.Equals(PkcsObjectIdentifiers.EncryptedData))
            {
                var encrypted = Encrypted(info, fileName);
                if (encrypted.Content is null)
                {
                    continue;
                }

                budget.Charge(PbeGuard.Check(encrypted.EncryptionAlgorithm, fileName), fileName);
                byte[] bagsDer;
                try
                {
                    var cipher = (IBufferedCipher)PbeUtilities.CreateEngine(encrypted.EncryptionAlgorithm);
                    cipher.Init(false, PbeUtilities.GenerateCipherParameters(encrypted.EncryptionAlgorithm, PbeGuard.CharsFor(encrypted.EncryptionAlgorithm, chars), wrongZero));
                    bagsDer = cipher.DoFinal(encrypted.Content.GetOctets());
                }
                catch (Exception e) when (e is not CertificateImportException)
                {
                    throw DecryptFailed();
                }

                // Decrypted bytes were never seen by the guard that checked the file.
                if (Asn1Guard.Check(bagsDer, out _) != Asn1Guard.Verdict.Ok || Asn1Object.FromByteArray(bagsDer) is not Asn1Sequence decrypted)
                {
                    throw DecryptFailed();
                }

                bags = decrypted;
                budget.Reserve(ShroudedWork(bags, fileName), fileName);
            }
            else
            {
                throw ImportErrors.Unrecognized(fileName, "the PKCS#12 file uses public-key privacy protection, which is not supported; export it again with a password");
            }

            ReadBags(bags, fileName, chars, wrongZero, budget, DecryptFailed, addCertificate, addPrivateKeyInfo);
        }
    }

    private static bool Charged(KeyDerivationBudget budget, int iterations, string fileName)
    {
        budget.Charge(iterations, fileName);
        return true;
    }

    private static EncryptedData Encrypted(ContentInfo info, string fileName) =>
        Asn1Structure.Decode(() => EncryptedData.GetInstance(info.Content), fileName, Layout);

    private static Asn1Sequence PlainBags(ContentInfo info, string fileName) =>
        Asn1Structure.Decode(() => Asn1Sequence.GetInstance(Asn1Object.FromByteArray(Asn1OctetString.GetInstance(info.Content).GetOctets())), fileName, Layout);

    private static SafeBag Bag(Asn1Encodable element, string fileName) =>
        Asn1Structure.Decode(() => SafeBag.GetInstance(element), fileName, Layout);

    private static EncryptedPrivateKeyInfo Shrouded(SafeBag bag, string fileName) =>
        Asn1Structure.Decode(() => EncryptedPrivateKeyInfo.GetInstance(bag.BagValue), fileName, Layout);

    // The derivation work of the shrouded key bags in one SafeContents.
    private static long ShroudedWork(Asn1Sequence bags, string fileName)
    {
        long work = 0;
        foreach (var element in bags)
        {
            var bag = Bag(element, fileName);
            if (bag.BagID.Equals(PkcsObjectIdentifiers.Pkcs8ShroudedKeyBag))
            {
                work += PbeGuard.Check(Shrouded(bag, fileName).EncryptionAlgorithm, fileName);
            }
        }

        return work;
    }

    private static void ReadBags(Asn1Sequence bags, string fileName, char[] chars, bool wrongZero, KeyDerivationBudget budget, Func<CertificateImportException> decryptFailed, Action<byte[]> addCertificate, Action<byte[]> addPrivateKeyInfo)
    {
        foreach (var element in bags)
        {
            var bag = Bag(element, fileName);
            if (bag.BagID.Equals(PkcsObjectIdentifiers.CertBag))
            {
                var certBag = Asn1Structure.Decode(() => CertBag.GetInstance(bag.BagValue), fileName, Layout);
                if (certBag.CertID.Equals(PkcsObjectIdentifiers.X509Certificate))
                {
                    addCertificate(Asn1Structure.Decode(() => Asn1OctetString.GetInstance(certBag.CertValue).GetOctets(), fileName, Layout));
                }
            }
            else if (bag.BagID.Equals(PkcsObjectIdentifiers.KeyBag))
            {
                addPrivateKeyInfo(Asn1Structure.Decode(() => PrivateKeyInfo.GetInstance(bag.BagValue).GetEncoded(Asn1Encodable.Der), fileName, Layout));
            }
            else if (bag.BagID.Equals(PkcsObjectIdentifiers.Pkcs8ShroudedKeyBag))
            {
                var encrypted = Shrouded(bag, fileName);
                budget.Charge(PbeGuard.Check(encrypted.EncryptionAlgorithm, fileName), fileName);
                byte[] der;
                try
                {
                    der = PrivateKeyInfoFactory.CreatePrivateKeyInfo(PbeGuard.CharsFor(encrypted.EncryptionAlgorithm, chars), wrongZero, encrypted).GetEncoded(Asn1Encodable.Der);
                }
                catch (Exception e) when (e is not CertificateImportException)
                {
                    throw decryptFailed();
                }

                addPrivateKeyInfo(der);
            }

            // CRL, secret and nested safe-contents bags hold nothing the appliance imports.
        }
    }

    // RFC 7292 Appendix B: the MAC key is derived with the PKCS#12 KDF (ID 3) from the password.
    private static bool MacMatches(MacData mac, char[] password, bool wrongZero, byte[] data)
    {
        var digestOid = mac.Mac.DigestAlgorithm.Algorithm;
        IDigest digest = DigestUtilities.GetDigest(digestOid);
        var generator = new Pkcs12ParametersGenerator(digest);
        generator.Init(PbeParametersGenerator.Pkcs12PasswordToBytes(password, wrongZero), mac.GetSalt(), mac.IterationCount.IntValue);
        var key = (KeyParameter)generator.GenerateDerivedMacParameters(digest.GetDigestSize() * 8);
        var hmac = new HMac(DigestUtilities.GetDigest(digestOid));
        hmac.Init(key);
        hmac.BlockUpdate(data, 0, data.Length);
        byte[] computed = new byte[hmac.GetMacSize()];
        hmac.DoFinal(computed, 0);
        return System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(computed, mac.Mac.Digest.GetOctets());
    }
}

using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Pkcs;
using Org.BouncyCastle.Asn1.X509;

namespace Appliance.Certificates.Formats;

/// <summary>Refuses password-based encryption whose parameters would make decryption hang
/// (an iteration count of billions costs minutes) or that no decryptor here supports.</summary>
internal static class PbeGuard
{
    /// <summary>OpenSSL writes 2048, .NET up to 600,000; ten million still finishes in seconds.</summary>
    internal const int MaxIterations = 10_000_000;

    private const string Pbes2 = "1.2.840.113549.1.5.13";
    private const string Pbkdf2 = "1.2.840.113549.1.5.12";
    private const string Pkcs12PbePrefix = "1.2.840.113549.1.12.1.";
    private const string Pbes1Prefix = "1.2.840.113549.1.5.";

    /// <summary>Refuses what cannot or should not be decrypted; returns the iterations decrypting it runs (for <see cref="KeyDerivationBudget"/>).</summary>
    internal static long Check(AlgorithmIdentifier algorithm, string fileName) =>
        Asn1Structure.Decode(() => CheckParameters(algorithm, fileName), fileName, "password-encryption parameter block (RFC 8018, RFC 7292 Appendix C)");

    private static long CheckParameters(AlgorithmIdentifier algorithm, string fileName)
    {
        string oid = algorithm.Algorithm.Id;
        // Every scheme below has parameters; BouncyCastle's GetInstance(null) answers null (found by fuzzing).
        if (algorithm.Parameters is null or Org.BouncyCastle.Asn1.Asn1Null)
            throw ImportErrors.Damaged(fileName, "it holds a password-encryption algorithm without its parameters (RFC 8018, RFC 7292 Appendix C)");
        if (oid == Pbes2)
        {
            // RFC 8018 A.4: PBES2-params = { keyDerivationFunc, encryptionScheme }.
            var parameters = PbeS2Parameters.GetInstance(algorithm.Parameters);
            if (parameters.KeyDerivationFunc.Algorithm.Id != Pbkdf2)
            {
                throw ImportErrors.Unrecognized(fileName,
                    $"the file is encrypted with the key derivation {parameters.KeyDerivationFunc.Algorithm.Id}, which is not supported (PBKDF2 is); export it again with default encryption");
            }

            return CheckCount(Pbkdf2Params.GetInstance(parameters.KeyDerivationFunc.Parameters).IterationCount, fileName);
        }
        else if (oid.StartsWith(Pkcs12PbePrefix, StringComparison.Ordinal))
        {
            // RFC 7292 Appendix C: pkcs-12PbeParams = { salt, iterations }.
            // The key and the IV are derived separately (RFC 7292 B.2, IDs 1 and 2): twice the count.
            return 2L * CheckCount(Pkcs12PbeParams.GetInstance(algorithm.Parameters).Iterations, fileName);
        }
        else if (oid.StartsWith(Pbes1Prefix, StringComparison.Ordinal))
        {
            // RFC 8018 A.3: PBEParameter = { salt, iterationCount }.
            return CheckCount(PbeParameter.GetInstance(algorithm.Parameters).IterationCount, fileName);
        }
        else
        {
            throw ImportErrors.Unrecognized(fileName,
                $"the file is encrypted with the scheme {oid}, which is not supported; export it again with AES (PBES2) or 3DES encryption");
        }
    }

    internal static int CheckCount(Org.BouncyCastle.Math.BigInteger iterations, string fileName)
    {
        if (iterations.SignValue <= 0 || iterations.BitLength > 31 || iterations.IntValue > MaxIterations)
        {
            throw ImportErrors.Unrecognized(fileName,
                $"the file asks for {iterations} password-derivation iterations; between 1 and {MaxIterations} are accepted. Export it again with default settings");
        }

        return iterations.IntValue;
    }

    /// <summary>
    /// The password as BouncyCastle's decryptors must be handed it for <paramref name="algorithm"/>. RFC 8018 makes a
    /// PBES2 password an octet string, and OpenSSL 3, NSS, GnuTLS and .NET all use its UTF-8 bytes; BouncyCastle's
    /// PbeUtilities keeps only the low byte of each char, so a non-ASCII password failed. Each UTF-8 byte is passed as
    /// one char, whose low byte is that byte (ASCII passwords are unchanged). The PKCS#12 schemes keep the chars: their
    /// KDF takes the BMPString (RFC 7292 B.1).
    /// </summary>
    internal static char[] CharsFor(AlgorithmIdentifier algorithm, char[] password) =>
        algorithm.Algorithm.Id == Pbes2 && password.Any(c => c > 0x7F)
            ? System.Text.Encoding.UTF8.GetBytes(password).Select(b => (char)b).ToArray()
            : password;

    /// <summary>The password as chars; an absent password is tried as the empty one (RFC 7292 allows both).</summary>
    internal static char[] Chars(string? password) => (password ?? string.Empty).ToCharArray();
}

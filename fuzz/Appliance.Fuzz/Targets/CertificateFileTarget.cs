using Appliance.Certificates.Formats;

namespace Appliance.Fuzz.Targets;

/// <summary>The certificate and key file reader: PEM, DER, PKCS#7, PKCS#8, PKCS#12 and legacy OpenSSL keys, as uploaded.</summary>
internal sealed class CertificateFileTarget : FuzzTarget
{
    /// <summary>The seeds' encrypted files use this password, so mutations reach the decrypted contents.</summary>
    internal const string Password = "fuzz";

    /// <summary>The seeds need a few iterations; a mutated count is refused by the budget rather than taking seconds
    /// (afl would call that a hang). The import's own cap is covered by KeyDerivationBudgetTests.</summary>
    internal const long MaxIterations = 100_000;

    public override string Name => "certificate-file";

    public override void Run(byte[] input)
    {
        var parsed = CertificateFileReader.Read(new ImportFile("fuzz.bin", input), Password, new KeyDerivationBudget(maxIterations: MaxIterations));
        foreach (var key in parsed.Keys)
        {
            key.Dispose();
        }

        foreach (var certificate in parsed.Certificates)
        {
            certificate.Dispose();
        }
    }

    // The reader turns whatever BouncyCastle or .NET throw into an import refusal and keeps the original inside:
    // a NullReferenceException there is still a bug in a parser that the safety net hid.
    public override bool IsExpected(Exception exception) =>
        exception is CertificateImportException && !IsBug(exception.InnerException);
}

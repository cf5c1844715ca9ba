namespace Appliance.Certificates.Formats;

/// <summary>
/// The password-derivation work one import may cost, counted in PBKDF2 / PKCS#12-KDF iterations over every encrypted
/// element and MAC of every file, and the request's cancellation. <see cref="PbeGuard"/> caps one element; this caps
/// their sum, so a file with thousands of encrypted elements at that cap is refused before any derivation starts
/// instead of pinning a core for hours. Readers reserve what they can see ahead, then charge each derivation.
/// </summary>
/// <param name="maxIterations">The cap; <see cref="MaxIterations"/> for imports (the fuzz driver sets a lower one, so a
/// mutated iteration count is refused instead of looking like a hang).</param>
public sealed class KeyDerivationBudget(CancellationToken cancellationToken = default, long maxIterations = KeyDerivationBudget.MaxIterations)
{
    /// <summary>Twice the per-element cap: a file at the cap plus a MAC at the cap; real files need a few thousand.</summary>
    public const long MaxIterations = 2L * PbeGuard.MaxIterations;

    private long _spent;

    /// <summary>Iterations derived so far in this import.</summary>
    public long Spent => _spent;

    public CancellationToken CancellationToken => cancellationToken;

    /// <summary>Refuses when <paramref name="iterations"/> more (seen ahead, not yet derived) would not fit; charges nothing.</summary>
    internal void Reserve(long iterations, string fileName)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (_spent + iterations > maxIterations)
        {
            throw TooMuch(fileName, _spent + iterations, maxIterations);
        }
    }

    /// <summary>Called before each derivation: refuses when it would pass the cap, and stops when the request was aborted.</summary>
    internal void Charge(long iterations, string fileName)
    {
        Reserve(iterations, fileName);
        _spent += iterations;
    }

    private static CertificateImportException TooMuch(string fileName, long asked, long maxIterations) =>
        new(ImportFailureReason.TooMuchKeyDerivation, fileName,
            $"{fileName}: the file asks for too much key-derivation work: its encrypted parts and MAC need {asked:N0} password-derivation iterations in all; at most {maxIterations:N0} are accepted per import. Export it again with default settings (fewer encrypted parts or iterations), or import the files one at a time.");
}

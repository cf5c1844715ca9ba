using System.Runtime.InteropServices;
using Appliance.Certificates.Formats;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Nist;
using Org.BouncyCastle.Asn1.Oiw;
using Org.BouncyCastle.Asn1.Pkcs;
using Org.BouncyCastle.Asn1.X509;

namespace Appliance.Certificates.Tests;

public sealed class KeyDerivationBudgetTests
{
    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out TimeSpec time);

    // CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID): what the read cost, whatever else the machine runs.
    private static TimeSpan ThreadCpuTime()
    {
        Assert.Equal(0, ClockGetTime(3, out var time));
        return TimeSpan.FromTicks(time.Seconds * TimeSpan.TicksPerSecond + time.Nanoseconds / 100);
    }

    // The attacker's file: cheap to write (nothing is really encrypted), dear to read if every element were derived.
    private static byte[] Pkcs12WithShroudedKeys(int keys, int iterations, int macIterations)
    {
        var algorithm = new AlgorithmIdentifier(PkcsObjectIdentifiers.IdPbeS2, new PbeS2Parameters(
            new KeyDerivationFunc(PkcsObjectIdentifiers.IdPbkdf2, new Pbkdf2Params(new byte[16], iterations)),
            new EncryptionScheme(NistObjectIdentifiers.IdAes256Cbc, new DerOctetString(new byte[16]))));
        var bags = Enumerable.Range(0, keys)
            .Select(_ => new SafeBag(PkcsObjectIdentifiers.Pkcs8ShroudedKeyBag, new EncryptedPrivateKeyInfo(algorithm, new byte[48]).ToAsn1Object()))
            .ToArray<Asn1Encodable>();
        var safe = new ContentInfo(PkcsObjectIdentifiers.Data, new DerOctetString(new DerSequence(bags).GetEncoded(Asn1Encodable.Der)));
        var authSafe = new ContentInfo(PkcsObjectIdentifiers.Data, new DerOctetString(new AuthenticatedSafe([safe]).GetEncoded(Asn1Encodable.Der)));
        var mac = new MacData(new DigestInfo(new AlgorithmIdentifier(OiwObjectIdentifiers.IdSha1, DerNull.Instance), new byte[20]), new byte[8], macIterations);
        return new Pfx(authSafe, mac).GetEncoded(Asn1Encodable.Der);
    }

    [Fact]
    public void RefusesAPkcs12WithTwoThousandKeysAtTheIterationCapBeforeDerivingAny()
    {
        var file = Pkcs12WithShroudedKeys(2000, PbeGuard.MaxIterations, PbeGuard.MaxIterations);
        var budget = new KeyDerivationBudget();
        var before = ThreadCpuTime();

        var error = Assert.Throws<CertificateImportException>(() => CertificateFileReader.Read(new ImportFile("many-keys.p12", file), "secret", budget));

        Assert.Equal(ImportFailureReason.TooMuchKeyDerivation, error.Reason);
        Assert.Equal("many-keys.p12: the file asks for too much key-derivation work: its encrypted parts and MAC need 20,010,000,000 password-derivation iterations in all; at most 20,000,000 are accepted per import. Export it again with default settings (fewer encrypted parts or iterations), or import the files one at a time.", error.Message);
        Assert.Equal(0, budget.Spent);
        // Deriving even one element at the cap costs seconds of CPU; refusing from the structure alone, milliseconds.
        var cpu = ThreadCpuTime() - before;
        Assert.True(cpu < TimeSpan.FromSeconds(0.5), $"refusing cost {cpu.TotalMilliseconds:0} ms of CPU");
    }

    [Fact]
    public void SharesOneBudgetBetweenTheFilesOfAnImport()
    {
        var budget = new KeyDerivationBudget();
        budget.Charge(KeyDerivationBudget.MaxIterations - 10, "first.p12");

        var error = Assert.Throws<CertificateImportException>(() => CertificateFileReader.Read(new ImportFile("second.p12", Pkcs12WithShroudedKeys(1, 10, 1)), "secret", budget));

        Assert.Equal(ImportFailureReason.TooMuchKeyDerivation, error.Reason);
        Assert.StartsWith("second.p12: the file asks for too much key-derivation work: its encrypted parts and MAC need 20,000,001 password-derivation iterations in all;", error.Message);
    }

    [Fact]
    public void StopsWhenTheRequestIsAbortedInsteadOfReportingADamagedFile()
    {
        using var aborted = new CancellationTokenSource();
        aborted.Cancel();

        Assert.Throws<OperationCanceledException>(() => CertificateFileReader.Read(new ImportFile("keys.p12", Pkcs12WithShroudedKeys(2, 1, 1)), "secret", new KeyDerivationBudget(aborted.Token)));
    }

    [Fact]
    public void CountsEachDerivationAReadRuns()
    {
        var budget = new KeyDerivationBudget();

        // The MAC (1 iteration) is derived and checked first; the made-up MAC does not match, so no key is derived.
        var error = Assert.Throws<CertificateImportException>(() => CertificateFileReader.Read(new ImportFile("keys.p12", Pkcs12WithShroudedKeys(3, 7, 1)), "secret", budget));

        Assert.Equal(ImportFailureReason.WrongPassword, error.Reason);
        Assert.Equal(1, budget.Spent);
    }
}

using System.Security.Cryptography.X509Certificates;
using Appliance.Tls.Ocsp;

namespace Appliance.Fuzz.Targets;

/// <summary>
/// The OCSP response check of the stapling service, for a fixed issuer and leaf (Fixtures/, the pair the seed
/// responses were signed for) at a fixed time inside the seeds' validity.
/// </summary>
internal sealed class OcspResponseTarget : FuzzTarget
{
    private static readonly DateTimeOffset Now = new(2027, 6, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly X509Certificate2 _issuer = Fixture("ocsp-issuer.pem");
    private readonly X509Certificate2 _leaf = Fixture("ocsp-leaf.pem");

    public override string Name => "ocsp-response";

    public override void Run(byte[] input) => OcspExchange.Verify(input, _leaf, _issuer, Now);

    public override bool IsExpected(Exception exception) => exception is OcspException;

    private static X509Certificate2 Fixture(string name)
    {
        using var stream = typeof(OcspResponseTarget).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"The fuzz driver lacks its embedded fixture {name}.");
        using var reader = new StreamReader(stream);
        return X509Certificate2.CreateFromPem(reader.ReadToEnd());
    }
}

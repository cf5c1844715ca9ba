using Appliance.Certificates.Formats;
using Org.BouncyCastle.Asn1;

namespace Appliance.Fuzz.Targets;

/// <summary>
/// The ASN.1 guard's promise: it never throws, the length it reports lies inside the input, and what it lets through
/// BouncyCastle decodes without exhausting the stack or memory (its refusals of malformed content are fine).
/// </summary>
internal sealed class Asn1GuardTarget : FuzzTarget
{
    public override string Name => "asn1-guard";

    public override void Run(byte[] input)
    {
        var verdict = Asn1Guard.Check(input, out int length);
        if (verdict != Asn1Guard.Verdict.Ok)
        {
            return;
        }

        if (length <= 0 || length > input.Length)
        {
            throw new FuzzInvariantException($"Asn1Guard said Ok with length {length} for {input.Length} bytes.");
        }

        try
        {
            using var stream = new Asn1InputStream(input.AsSpan(0, length).ToArray());
            stream.ReadObject()?.GetEncoded(Asn1Encodable.Der);
        }
        catch (Exception e) when (!IsBug(e) && e is not InsufficientExecutionStackException)
        {
            // BouncyCastle refusing content the guard passed as well-framed is not the guard's fault.
        }
    }

    public override bool IsExpected(Exception exception) => false;
}

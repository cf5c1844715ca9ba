using Appliance.Tpm;
using Appliance.Tpm.Marshalling;
using Appliance.Tpm.Sessions;

namespace Appliance.Fuzz.Targets;

/// <summary>
/// The TPM response parsers: the first input byte picks the command whose response parser reads the rest
/// (a TPM or a device in between can answer anything to any command).
/// </summary>
internal sealed class TpmResponseTarget : FuzzTarget
{
    private static readonly Action<byte[]>[] Parsers =
    [
        r => Tpm2Commands.ParseStartupResponse(r),
        r => Tpm2Commands.ParseGetCapabilityResponse(r),
        r => Tpm2Commands.ParseGetRandomResponse(r),
        r => Tpm2Commands.ParseCreatePrimaryResponse(r, PasswordAuthorization.Empty),
        r => Tpm2Commands.ParseCreateResponse(r, PasswordAuthorization.Empty),
        r => Tpm2Commands.ParseLoadResponse(r, PasswordAuthorization.Empty),
        r => Tpm2Commands.ParseUnsealResponse(r, PasswordAuthorization.Empty),
        r => Tpm2Commands.ParseFlushContextResponse(r),
        r => Tpm2Commands.ParseStartAuthSessionResponse(r),
        r => Tpm2Commands.ParsePolicyPcrResponse(r),
        r => Tpm2Commands.ParsePolicyGetDigestResponse(r),
        r => Tpm2Commands.ParsePcrReadResponse(r),
        r => Tpm2Commands.ParsePcrExtendResponse(r, PasswordAuthorization.Empty),
        r => TpmtPublic.FromTpm2B(r),
    ];

    /// <summary>The selector byte of each parser, for the seed corpus.</summary>
    internal static int Count => Parsers.Length;

    public override string Name => "tpm-response";

    public override void Run(byte[] input)
    {
        if (input.Length == 0)
        {
            return;
        }

        Parsers[input[0] % Parsers.Length](input[1..]);
    }

    public override bool IsExpected(Exception exception) => exception is TpmException or TpmFormatException;
}

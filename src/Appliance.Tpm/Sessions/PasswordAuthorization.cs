using Appliance.Tpm.Marshalling;

namespace Appliance.Tpm.Sessions;

/// <summary>The password session TPM_RS_PW (Part 1, 19.8.4): the authValue in clear in the HMAC field, no nonces.</summary>
internal sealed class PasswordAuthorization(byte[] password) : ITpmAuthorization
{
    /// <summary>The empty password: owner hierarchy, PCRs and objects made without a userAuth.</summary>
    public static PasswordAuthorization Empty { get; } = new([]);

    public TpmAuthCommand Authorize(TpmCc command, ReadOnlySpan<byte> names, Span<byte> parameters) =>
        new(TpmRh.Password, [], TpmaSession.ContinueSession, password);

    public void Complete(TpmCc command, in TpmAuthResponse response, Span<byte> parameters)
    {
        if (response.Nonce.Length != 0 || response.Hmac.Length != 0)
        {
            throw new TpmFormatException($"{Tpm2Frame.CommandName(command)}: a password session answered with a nonce or HMAC.");
        }
    }
}

namespace Appliance.Tls.Ocsp;

/// <summary>A verified response saying "good" for one certificate: the DER to staple and its validity window.</summary>
internal sealed record OcspResponse(byte[] Der, DateTimeOffset ThisUpdate, DateTimeOffset? NextUpdate);

/// <summary>
/// What the stapling service knows about one certificate: its responder and issuer, the verified response to staple
/// (if any), and the fetch history the schedule decides from.
/// </summary>
internal sealed record OcspState(
    Uri Responder, string IssuerId, OcspResponse? Staple, int Failures, DateTimeOffset? LastAttempt, string? LastError)
{
    public static OcspState New(Uri responder, string issuerId) => new(responder, issuerId, null, 0, null, null);
}

using System.Text.Json.Serialization;

namespace Appliance.Acme.Protocol;

// RFC 8555 resources as the server sends them (section 7.1). Unknown members are ignored; missing
// optional members are null.

/// <summary>The directory object (RFC 8555 section 7.1.1), with renewalInfo (RFC 9773) and meta.profiles.</summary>
public sealed record AcmeDirectory(
    string? NewNonce,
    string? NewAccount,
    string? NewOrder,
    string? RevokeCert,
    string? KeyChange,
    string? RenewalInfo,
    AcmeDirectoryMeta? Meta);

public sealed record AcmeDirectoryMeta(
    string? TermsOfService,
    string? Website,
    IReadOnlyList<string>? CaaIdentities,
    bool ExternalAccountRequired,
    IReadOnlyDictionary<string, string>? Profiles);

public sealed record AcmeIdentifier(string Type, string Value)
{
    public static AcmeIdentifier For(string name) =>
        System.Net.IPAddress.TryParse(name, out _) ? new("ip", name) : new("dns", name);

    public override string ToString() => Value;
}

internal sealed record AccountResource(string? Status, IReadOnlyList<string>? Contact, string? Orders);

public sealed record AcmeOrder(
    string Status,
    string? Expires,
    IReadOnlyList<AcmeIdentifier>? Identifiers,
    IReadOnlyList<string>? Authorizations,
    string? Finalize,
    string? Certificate,
    string? Profile,
    AcmeProblem? Error);

public sealed record AcmeAuthorization(
    string Status,
    AcmeIdentifier? Identifier,
    IReadOnlyList<AcmeChallenge>? Challenges,
    bool Wildcard);

public sealed record AcmeChallenge(string Type, string Url, string? Status, string? Token, AcmeProblem? Error);

/// <summary>The suggested renewal window of RFC 9773 section 4.2.</summary>
public sealed record AcmeRenewalWindow(DateTimeOffset Start, DateTimeOffset End);

internal sealed record RenewalInfoResource(AcmeRenewalWindow? SuggestedWindow, string? ExplanationUrl);

// Request payloads and the JWS envelope.

internal sealed record NewAccountPayload(
    bool TermsOfServiceAgreed,
    IReadOnlyList<string>? Contact,
    JwsMessage? ExternalAccountBinding,
    bool? OnlyReturnExisting);

internal sealed record NewOrderPayload(IReadOnlyList<AcmeIdentifier> Identifiers, string? Profile, string? Replaces);

internal sealed record FinalizePayload(string Csr);

internal sealed record EmptyPayload;

internal sealed record KeyChangePayload(string Account, EcJwk OldKey);

/// <summary>The flattened JWS JSON serialization (RFC 7515 section 7.2.2) that every ACME POST carries.</summary>
internal sealed record JwsMessage(
    [property: JsonPropertyName("protected")] string Protected,
    [property: JsonPropertyName("payload")] string Payload,
    [property: JsonPropertyName("signature")] string Signature);

internal sealed record JwsHeader(string Alg, EcJwk? Jwk, string? Kid, string? Nonce, string Url);

/// <summary>An EC public key as a JWK (RFC 7518 section 6.2.1).</summary>
public sealed record EcJwk(string Crv, string Kty, string X, string Y);

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    PropertyNameCaseInsensitive = false,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(AcmeDirectory))]
[JsonSerializable(typeof(AccountResource))]
[JsonSerializable(typeof(AcmeOrder))]
[JsonSerializable(typeof(AcmeAuthorization))]
[JsonSerializable(typeof(AcmeChallenge))]
[JsonSerializable(typeof(AcmeProblem))]
[JsonSerializable(typeof(RenewalInfoResource))]
[JsonSerializable(typeof(NewAccountPayload))]
[JsonSerializable(typeof(NewOrderPayload))]
[JsonSerializable(typeof(FinalizePayload))]
[JsonSerializable(typeof(EmptyPayload))]
[JsonSerializable(typeof(KeyChangePayload))]
[JsonSerializable(typeof(JwsMessage))]
[JsonSerializable(typeof(JwsHeader))]
[JsonSerializable(typeof(EcJwk))]
[JsonSerializable(typeof(string))]
internal sealed partial class AcmeJson : JsonSerializerContext;

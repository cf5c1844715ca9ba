using System.Text.Json.Serialization;
using Appliance.Acme.Protocol;

namespace Appliance.Acme;

/// <summary>An RFC 7807 problem document as ACME servers send it (RFC 8555 section 6.7), with subproblems (6.7.1).</summary>
public sealed record AcmeProblem(
    string? Type,
    string? Detail,
    int? Status,
    IReadOnlyList<AcmeProblem>? Subproblems,
    AcmeIdentifier? Identifier)
{
    /// <summary>"badNonce" for "urn:ietf:params:acme:error:badNonce"; the whole type for others.</summary>
    [JsonIgnore]
    public string ShortType => Type is { } t && t.StartsWith(AcmeErrors.Prefix, StringComparison.Ordinal) ? t[AcmeErrors.Prefix.Length..] : Type ?? "about:blank";

    public bool Is(string type) => string.Equals(Type, type, StringComparison.Ordinal);

    /// <summary>The problem in one line for the admin: detail, type, and each subproblem with its identifier.</summary>
    public string Describe()
    {
        var text = $"{(string.IsNullOrWhiteSpace(Detail) ? "no detail given" : Detail.Trim().TrimEnd('.'))} ({ShortType})";
        // A server may send null entries ("subproblems":[null], found by fuzzing): they say nothing and are skipped.
        var subproblems = (Subproblems ?? []).Where(s => s is not null).ToList();
        if (subproblems.Count > 0)
            text += ": " + string.Join("; ", subproblems.Select(s => (s.Identifier is null ? "" : s.Identifier.Value + ": ") + s.Describe()));
        return text;
    }
}

/// <summary>The error types of RFC 8555 section 6.7 that the client branches on.</summary>
public static class AcmeErrors
{
    public const string Prefix = "urn:ietf:params:acme:error:";
    public const string AccountDoesNotExist = Prefix + "accountDoesNotExist";
    public const string BadNonce = Prefix + "badNonce";
    public const string BadCsr = Prefix + "badCSR";
    public const string Caa = Prefix + "caa";
    public const string Connection = Prefix + "connection";
    public const string Dns = Prefix + "dns";
    public const string ExternalAccountRequired = Prefix + "externalAccountRequired";
    public const string IncorrectResponse = Prefix + "incorrectResponse";
    public const string Malformed = Prefix + "malformed";
    public const string OrderNotReady = Prefix + "orderNotReady";
    public const string RateLimited = Prefix + "rateLimited";
    public const string RejectedIdentifier = Prefix + "rejectedIdentifier";
    public const string ServerInternal = Prefix + "serverInternal";
    public const string Unauthorized = Prefix + "unauthorized";
    public const string UnsupportedIdentifier = Prefix + "unsupportedIdentifier";
    public const string UserActionRequired = Prefix + "userActionRequired";
    public const string InvalidProfile = Prefix + "invalidProfile";
}

public enum AcmeFailure
{
    /// <summary>The server could not be reached (DNS, TCP, TLS, timeout).</summary>
    Unreachable,
    /// <summary>The server answered with something that is not ACME (bad JSON, missing members, unexpected status).</summary>
    MalformedResponse,
    /// <summary>The server refused with a problem document; see <see cref="AcmeException.Problem"/>.</summary>
    Refused,
    /// <summary>The server asks to wait (rateLimited, or 503 with Retry-After).</summary>
    RateLimited,
    /// <summary>A challenge failed validation: the authorization became invalid.</summary>
    ValidationFailed,
    /// <summary>The order became invalid.</summary>
    OrderInvalid,
    /// <summary>The server did not finish within the polling deadline.</summary>
    TimedOut,
    /// <summary>The request cannot be made as configured (no http-01 offered, missing directory members, ...).</summary>
    NotPossible,
}

/// <summary>An ACME operation that failed; the message says what failed, with the values, and what to do.</summary>
public sealed class AcmeException(AcmeFailure reason, string message, AcmeProblem? problem = null, TimeSpan? retryAfter = null, Exception? inner = null)
    : Exception(message, inner)
{
    public AcmeFailure Reason { get; } = reason;
    public AcmeProblem? Problem { get; } = problem;

    /// <summary>How long the server asked to wait before trying again, when it said so.</summary>
    public TimeSpan? RetryAfter { get; } = retryAfter;
}

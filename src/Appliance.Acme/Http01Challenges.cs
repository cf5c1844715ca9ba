using System.Collections.Concurrent;

namespace Appliance.Acme;

/// <summary>
/// Publishes http-01 key authorizations (RFC 8555 section 8.3) where the CA can fetch them:
/// GET http://{name}/.well-known/acme-challenge/{token} answers the key authorization as text/plain.
/// Implementations must be thread-safe; lookups happen on the HTTP listener's request path and must be fast.
/// </summary>
public interface IChallengeResponder
{
    void Publish(string token, string keyAuthorization);

    void Withdraw(string token);
}

/// <summary>The in-memory token to key-authorization map the port-80 listener answers from.</summary>
public sealed class Http01ChallengeStore : IChallengeResponder
{
    public const string PathPrefix = "/.well-known/acme-challenge/";
    private readonly ConcurrentDictionary<string, string> _answers = new(StringComparer.Ordinal);

    public void Publish(string token, string keyAuthorization) => _answers[token] = keyAuthorization;

    public void Withdraw(string token) => _answers.TryRemove(token, out _);

    /// <summary>The key authorization for a token, or null when no challenge with that token is pending.</summary>
    public string? Answer(string token) => _answers.TryGetValue(token, out var value) ? value : null;

    public int Count => _answers.Count;
}

namespace Appliance.Edge;

/// <summary>Why the HTTP edge refused a request before any domain rule ran; <see cref="RefusalMap"/> gives each its status.</summary>
internal enum RequestFailure
{
    /// <summary>The request cannot be read as sent: malformed JSON, form, path or value.</summary>
    Invalid,
    /// <summary>The request is well-formed but contradicts the appliance's state (e.g. it would lock the admin out).</summary>
    Conflict,
    /// <summary>The body is larger than the route accepts.</summary>
    TooLarge,
    /// <summary>The body's content type is not the one the route reads.</summary>
    UnsupportedMediaType,
}

/// <summary>A refused request at the HTTP edge (content type, size, JSON, form fields); the message says what to send instead.</summary>
internal sealed class RequestException(RequestFailure reason, string message) : Exception(message)
{
    public RequestFailure Reason { get; } = reason;
}

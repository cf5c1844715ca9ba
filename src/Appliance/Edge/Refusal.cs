namespace Appliance.Edge;

/// <summary>
/// A refusal as HTTP says it: the status, its RFC 9110 title, the admin-facing words and, for 429, when to try
/// again (the Retry-After header). The API writes it as problem+json, the pages show it in the form or a plain page.
/// </summary>
internal sealed record Refusal(int Status, string Detail, TimeSpan? RetryAfter = null)
{
    public string Title => TitleOf(Status);

    /// <summary>
    /// Whether a page shows the refusal in its form, keeping the admin's input: any refusal, and an upstream's
    /// failure (502: the ACME server or the SMTP server failed; the form can be sent again). The appliance's own
    /// failures (500, 503 without the key vault, 507 with a full disk) get the error page instead.
    /// </summary>
    public bool ShownInForm => Status < 500 || Status == 502;

    /// <summary>The Retry-After value: whole seconds, at least 1 (RFC 9110 section 10.2.3).</summary>
    public string? RetryAfterHeader => RetryAfter is { } wait ? Math.Max(1, (long)Math.Ceiling(wait.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture) : null;

    /// <summary>Sets the status and Retry-After on a response that has not started.</summary>
    public void ApplyTo(HttpResponse response)
    {
        response.StatusCode = Status;
        AddRetryAfter(response);
    }

    /// <summary>Sets Retry-After when the refusal has one: the one place the header is written, for the API and the pages.</summary>
    public void AddRetryAfter(HttpResponse response)
    {
        if (RetryAfterHeader is { } header) response.Headers.RetryAfter = header;
    }

    /// <summary>The reason phrase of a status (RFC 9110 section 15), the title of its problem document.</summary>
    public static string TitleOf(int status) => status switch
    {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        409 => "Conflict",
        405 => "Method Not Allowed",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Content",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        507 => "Insufficient Storage",
        _ => "Error",
    };
}

namespace Appliance.Edge;

/// <summary>The request sizes the HTTP edge accepts: Kestrel's body limit is the JSON one, raised only for uploads.</summary>
internal static class RequestLimits
{
    /// <summary>A JSON body (and any body outside an upload route) larger than this answers 413.</summary>
    public const long MaxJsonBytes = 64 * 1024;

    /// <summary>The words for a body over <see cref="MaxJsonBytes"/> once reading it failed (no Content-Length was sent).</summary>
    public static string TooLarge => $"The request body is larger than the {MaxJsonBytes / 1024} KiB accepted here; send a smaller JSON body.";
}

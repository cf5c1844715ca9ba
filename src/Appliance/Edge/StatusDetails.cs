namespace Appliance.Edge;

/// <summary>The words for an API status the framework (or the API's fallback route) gives without a body.</summary>
internal static class StatusDetails
{
    public static string For(int status, HttpContext context) => status switch
    {
        400 => $"The request to {context.Request.Method} {LimitedPath(context.Request.Path.Value)} could not be read: a route value, query "
            + $"parameter or header is malformed. Check it against the OpenAPI document at {EdgePaths.OpenApiDocument}.",
        404 => $"There is no API route {context.Request.Method} {LimitedPath(context.Request.Path.Value)}; the OpenAPI document at {EdgePaths.OpenApiDocument} lists them.",
        405 => $"{context.Request.Method} is not answered at {LimitedPath(context.Request.Path.Value)}; use one of the methods in the Allow header.",
        413 => UploadReader.IsUpload(context)
            ? UploadLimits.TooLarge
            : RequestLimits.TooLarge,
        415 => "Send the request body as JSON with 'Content-Type: application/json'.",
        _ => $"The request was refused with status {status}; check it against the OpenAPI document at {EdgePaths.OpenApiDocument}.",
    };

    /// <summary>A path as echoed in a detail: at most 200 characters.</summary>
    public static string LimitedPath(string? path) => path is null ? "" : path.Length <= 200 ? path : path[..200] + "...";
}

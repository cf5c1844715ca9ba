namespace Appliance.Edge;

/// <summary>
/// The paths the HTTP edge itself must know (authentication, refusals, uploads), shared by the API and the pages so
/// that neither refers to the other.
/// </summary>
internal static class EdgePaths
{
    /// <summary>Everything of the admin interface: pages, API, stylesheet.</summary>
    public const string Root = "/appliance";

    /// <summary>Everything of the API: the versioned routes and the OpenAPI document.</summary>
    public const string ApiRoot = Root + "/api";
    public const string ApiPrefix = ApiRoot + "/v1";

    /// <summary>The OpenAPI document of the API (DESIGN.md), for admins with a session or a token like every route.</summary>
    public const string OpenApiDocument = ApiRoot + "/openapi.json";

    /// <summary>POST logs in, DELETE signs out.</summary>
    public const string ApiSession = ApiPrefix + "/session";
    public const string ApiPassword = ApiPrefix + "/password";
    public const string ApiImport = ApiPrefix + "/certificates/import";

    public const string Login = Root + "/login";
    public const string Logout = Root + "/logout";
    public const string Password = Root + "/password";
    public const string Status = Root + "/status";
    public const string Stylesheet = Root + "/static/appliance.css";
    public const string PageImport = Root + "/security/certificates/import";

    /// <summary>Whether a request is the API's (answered with status codes and problem+json, never pages or redirects).</summary>
    public static bool IsApi(PathString path) => path.StartsWithSegments(ApiRoot);
}

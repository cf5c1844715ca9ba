using System.Net;
using Appliance.Edge;

namespace Appliance.Audit;

/// <summary>
/// Records every state-changing request to /appliance (POST, PUT, PATCH, DELETE over HTTPS: API calls and form posts,
/// refused ones included) once its response is complete: the account, the client address, the route, the status,
/// and the action in words from the handler (<see cref="AuditTrail.Done"/>) or the route's <see cref="AuditedAction"/>.
/// Placed first in the pipeline so it sees the final status that ErrorMiddleware and the refusal middlewares set.
/// Refusals without a signed-in admin are counted per source and minute rather than stored one by one (<see cref="AuditLog"/>).
/// </summary>
internal sealed class AuditMiddleware(RequestDelegate next, AuditLog log)
{
    public async Task InvokeAsync(HttpContext context)
    {
        if (!IsChange(context.Request))
        {
            await next(context);
            return;
        }
        var completed = false;
        try
        {
            await next(context);
            completed = true;
        }
        finally
        {
            if (!AuditTrail.Skipped(context)) Record(context, completed);
        }
    }

    private static bool IsChange(HttpRequest request) =>
        request.IsHttps && request.Path.StartsWithSegments(Edge.EdgePaths.Root)
        && !(HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || HttpMethods.IsOptions(request.Method));

    private void Record(HttpContext context, bool completed)
    {
        var account = AuthenticationMiddleware.TryAccountOf(context);
        var username = account?.Username ?? AuditTrail.UserOf(context);
        var status = completed ? context.Response.StatusCode : StatusCodes.Status500InternalServerError;
        var done = AuditTrail.DoneOf(context);
        var refused = AuditTrail.RefusedOf(context);
        if (!completed) refused ??= "The request ended before it completed.";
        var outcome = status >= 500 || !completed ? AuditLog.Failed
            : status >= 400 || (refused is not null && done is null) ? AuditLog.Refused
            : AuditLog.Ok;
        var action = done ?? context.GetEndpoint()?.Metadata.GetMetadata<AuditedAction>()?.Action
            ?? $"{context.Request.Method} {context.Request.Path}";
        log.Record(account is not null, username, Address(context.Connection.RemoteIpAddress), context.Request.Method, context.Request.Path.Value ?? "",
            status, outcome, action, refused);
    }

    private static string Address(IPAddress? address) =>
        address is null ? "unknown" : (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).ToString();
}

using Appliance.Hosting;

namespace Appliance.Edge;

/// <summary>
/// Turns an exception from anything behind it into its refusal (<see cref="FullDisk"/>, then <see cref="RefusalMap"/>),
/// logs it once, and answers it: problem+json for the API, a plain page for the pages.
/// </summary>
internal sealed partial class ErrorMiddleware(RequestDelegate next, ILogger<ErrorMiddleware> logger, StatePartition partition)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
        }
        catch (Exception e) when (!context.Response.HasStarted && (FullDisk.Of(e, partition) ?? RefusalMap.Of(e, context)) is { } refusal)
        {
            // Outside text is escaped before it reaches a log line; refusals without a signed-in admin are the audit
            // log's to count (a flood would otherwise write a line per request).
            var method = LogText.Escape(context.Request.Method, Audit.AuditLog.MaxMethodLength);
            var path = LogText.Escape(context.Request.Path.Value, Audit.AuditLog.MaxNameLength);
            if (refusal.Status == FullDisk.Status) LogFull(logger, method, path, refusal.Detail);
            else if (refusal.Status >= 500) LogFailure(logger, e, method, path);
            else if (AuthenticationMiddleware.TryAccountOf(context) is not null)
                LogRefusal(logger, method, path, refusal.Status, LogText.Escape(refusal.Detail, Audit.AuditLog.MaxDetailLength));
            context.Response.Clear();
            if (EdgePaths.IsApi(context.Request.Path))
                await new Problem(refusal).ExecuteAsync(context);
            else
                await RefusalPage.WriteAsync(context, refusal);
        }
    }

    /// <summary>A refusal answered without an exception (a status-only answer), logged as <see cref="InvokeAsync"/> logs one.</summary>
    internal static void LogStatusOnly(ILogger logger, HttpContext context, int status) =>
        LogRefusal(logger, LogText.Escape(context.Request.Method), LogText.Escape(context.Request.Path.Value), status, "(no detail)");

    [LoggerMessage(EventId = EventIds.Http.Refused, Level = LogLevel.Information, Message = "{Method} {Path} refused with {Status}: {Detail}")]
    private static partial void LogRefusal(ILogger logger, string method, string path, int status, string detail);

    [LoggerMessage(EventId = EventIds.Http.RefusedStateFull, Level = LogLevel.Warning, Message = "{Method} {Path} refused with 507: {Detail}")]
    private static partial void LogFull(ILogger logger, string method, string path, string detail);

    [LoggerMessage(EventId = EventIds.Http.Failed, Level = LogLevel.Error, Message = "{Method} {Path} failed")]
    private static partial void LogFailure(ILogger logger, Exception exception, string method, string path);
}

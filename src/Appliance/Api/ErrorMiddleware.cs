using Appliance.Accounts;
using Appliance.Certificates.Formats;
using Appliance.Certificates.Store;
using Appliance.Hosting;
using Microsoft.AspNetCore.Http;

namespace Appliance.Api;

/// <summary>Maps the domain's refusals to problem+json at the boundary, logging each once.</summary>
internal sealed partial class ErrorMiddleware(RequestDelegate next, ILogger<ErrorMiddleware> logger, Hosting.StatePartition partition)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            var api = ApiEndpoints.IsApi(context.Request.Path);
            if (api && ApiRequestGuard.Refusal(context) is { } refused) throw new ApiException(400, refused);
            await next(context);
            // Status-only answers from the framework (route or query binding, routing's 405/415, Kestrel limits)
            // get a problem document too: every API refusal explains itself.
            if (api && context.Response.StatusCode >= 400 && !context.Response.HasStarted && context.Response.ContentType is null)
            {
                var status = context.Response.StatusCode;
                if (AuthenticationMiddleware.TryAccountOf(context) is not null)
                    LogRefusal(logger, LogText.Escape(context.Request.Method), LogText.Escape(context.Request.Path.Value), status, "(no detail)");
                await ApiEndpoints.Problem(status, ApiRequestGuard.DetailFor(status, context)).ExecuteAsync(context);
            }
        }
        catch (Exception e) when (!context.Response.HasStarted
            && (Hosting.StatePartition.IsFull(e) ? (507, partition.FullDetail()) : Describe(e, context)) is { } mapped)
        {
            // Outside text is escaped before it reaches a log line; refusals without a signed-in admin are the audit
            // log's to count (a flood would otherwise write a line per request).
            var method = LogText.Escape(context.Request.Method, Audit.AuditLog.MaxMethodLength);
            var path = LogText.Escape(context.Request.Path.Value, Audit.AuditLog.MaxNameLength);
            if (mapped.Status == 507) LogFull(logger, method, path, mapped.Detail);
            else if (mapped.Status >= 500) LogFailure(logger, e, method, path);
            else if (AuthenticationMiddleware.TryAccountOf(context) is not null)
                LogRefusal(logger, method, path, mapped.Status, LogText.Escape(mapped.Detail, Audit.AuditLog.MaxDetailLength));
            context.Response.Clear();
            if (e is AccountException { RetryAfter: { } wait }) context.Response.Headers.RetryAfter = LoginThrottle.RetryAfterHeader(wait);
            if (ApiEndpoints.IsApi(context.Request.Path))
                await ApiEndpoints.Problem(mapped.Status, mapped.Detail).ExecuteAsync(context);
            else
                await Ui.AntiforgeryCheck.WritePlainPage(context, mapped.Status, mapped.Detail);
        }
    }

    /// <summary>The status and the admin-facing words for a refusal; null for a cancelled request.</summary>
    internal static (int Status, string Detail)? Describe(Exception e, HttpContext? context = null) => e switch
    {
        ApiException a => (a.Status, a.Message),
        AccountException a => (a.Status, a.Message),
        CertificateImportException i => (400, i.Message),
        CertificateRequestException r => (400, r.Message),
        CertificateExportException x => (400, x.Message),
        CertificateStoreException s => (s.Reason switch
        {
            StoreFailure.NotFound => 404,
            StoreFailure.InUse => 409,
            StoreFailure.Conflict => 409,
            StoreFailure.KeyUnavailable => 503,
            _ => 400,
        }, s.Message),
        BadHttpRequestException b when b.StatusCode == 413 && context is not null && !ApiRequestGuard.IsUpload(context) =>
            (413, $"The request body is larger than the {ApiEndpoints.MaxJsonBytes / 1024} KiB accepted here; send a smaller JSON body."),
        BadHttpRequestException b when b.StatusCode == 413 =>
            (413, $"The upload is larger than the {ApiEndpoints.MaxImportBytes / (1024 * 1024)} MB accepted; import fewer or smaller files at a time."),
        BadHttpRequestException b when b.StatusCode < 500 =>
            (b.StatusCode, $"{b.Message} Check the request against the OpenAPI document at {ApiEndpoints.OpenApiDocument}."),
        OperationCanceledException => null,
        _ => (500, "The appliance failed to complete the request; the service log has the details. Try again, and contact support if it persists."),
    };

    [LoggerMessage(EventId = EventIds.Http.Refused, Level = LogLevel.Information, Message = "{Method} {Path} refused with {Status}: {Detail}")]
    private static partial void LogRefusal(ILogger logger, string method, string path, int status, string detail);

    [LoggerMessage(EventId = EventIds.Http.RefusedStateFull, Level = LogLevel.Warning, Message = "{Method} {Path} refused with 507: {Detail}")]
    private static partial void LogFull(ILogger logger, string method, string path, string detail);

    [LoggerMessage(EventId = EventIds.Http.Failed, Level = LogLevel.Error, Message = "{Method} {Path} failed")]
    private static partial void LogFailure(ILogger logger, Exception exception, string method, string path);
}

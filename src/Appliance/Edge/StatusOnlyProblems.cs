namespace Appliance.Edge;

/// <summary>
/// Status-only answers from the framework (route or query binding, routing's 405/415, Kestrel limits) get a problem
/// document too: every API refusal explains itself (<see cref="StatusDetails"/>).
/// </summary>
internal sealed class StatusOnlyProblems(RequestDelegate next, ILogger<ErrorMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        await next(context);
        if (!EdgePaths.IsApi(context.Request.Path) || context.Response.StatusCode < 400 || context.Response.HasStarted || context.Response.ContentType is not null)
            return;
        var status = context.Response.StatusCode;
        if (AuthenticationMiddleware.TryAccountOf(context) is not null) ErrorMiddleware.LogStatusOnly(logger, context, status);
        await Problem.Of(status, StatusDetails.For(status, context)).ExecuteAsync(context);
    }
}

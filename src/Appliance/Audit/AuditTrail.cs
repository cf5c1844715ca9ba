namespace Appliance.Audit;

/// <summary>The admin's words for what a state-changing route does, shown in the audit log when the handler says nothing more.</summary>
internal sealed record AuditedAction(string Action);

/// <summary>
/// What a handler tells the audit log about its request, through <see cref="HttpContext.Items"/>: what was changed
/// (in words, with names), why it was refused, or that this step changed nothing (a form navigating to its next page).
/// <see cref="AuditMiddleware"/> records the entry once the response is complete.
/// </summary>
internal static class AuditTrail
{
    private const string DoneKey = "appliance.audit.done";
    private const string RefusedKey = "appliance.audit.refused";
    private const string UserKey = "appliance.audit.user";
    private const string SkipKey = "appliance.audit.skip";

    /// <summary>Declares the route's action in words ("Import certificates") for the audit log and the route table.</summary>
    public static TBuilder Audited<TBuilder>(this TBuilder builder, string action) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new AuditedAction(action));

    /// <summary>What the request changed, e.g. "Imported 2 certificates: a.example, b.example".</summary>
    public static void Done(HttpContext context, string action) => context.Items[DoneKey] = action;

    /// <summary>Why the request changed nothing (or not all), in the words the admin was shown.</summary>
    public static void Refused(HttpContext context, string detail) => context.Items[RefusedKey] = detail;

    /// <summary>The account acting when none is signed in yet (a login).</summary>
    public static void ActingAs(HttpContext context, string username) => context.Items[UserKey] = username;

    /// <summary>This request changes nothing (e.g. "Add" in a form that re-renders it): no entry.</summary>
    public static void NotAChange(HttpContext context) => context.Items[SkipKey] = true;

    internal static string? DoneOf(HttpContext context) => context.Items.TryGetValue(DoneKey, out var v) ? v as string : null;
    internal static string? RefusedOf(HttpContext context) => context.Items.TryGetValue(RefusedKey, out var v) ? v as string : null;
    internal static string? UserOf(HttpContext context) => context.Items.TryGetValue(UserKey, out var v) ? v as string : null;
    internal static bool Skipped(HttpContext context) => context.Items.ContainsKey(SkipKey);

    /// <summary>"1 certificate" / "2 certificates".</summary>
    public static string Count(int count, string noun) => $"{count} {noun}{(count == 1 ? "" : "s")}";
}

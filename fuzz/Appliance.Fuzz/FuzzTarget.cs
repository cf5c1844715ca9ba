namespace Appliance.Fuzz;

/// <summary>
/// One parser under fuzzing: <see cref="Run"/> feeds it one input; <see cref="IsExpected"/> says which exceptions are
/// the parser refusing bad input (its own typed exceptions). Any other exception escapes and is a crash.
/// </summary>
internal abstract class FuzzTarget
{
    /// <summary>The name on the command line and the corpus folder (fuzz/corpus/NAME).</summary>
    public abstract string Name { get; }

    public abstract void Run(byte[] input);

    public abstract bool IsExpected(Exception exception);

    /// <summary>Exceptions that are bugs wherever they come from, even when a parser's safety net wrapped them.</summary>
    public static bool IsBug(Exception? exception) => exception is NullReferenceException or IndexOutOfRangeException
        or InvalidCastException or OverflowException or DivideByZeroException or ArgumentOutOfRangeException
        or KeyNotFoundException or InsufficientExecutionStackException or OutOfMemoryException or FuzzInvariantException;
}

/// <summary>A target's own check on what a parser returned failed (e.g. a length outside the input).</summary>
internal sealed class FuzzInvariantException(string message) : Exception(message);

using System.Reflection;
using Xunit.Sdk;
using Xunit.v3;

namespace Image.Tests;

/// <summary>The step of a test in a scenario that shares one box: lower steps run first.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class StepAttribute(int order) : Attribute
{
    public int Order { get; } = order;
}

/// <summary>Runs a class's tests in the order of their [Step]: the box's state carries over from one to the next.</summary>
public sealed class StepOrderer : ITestCaseOrderer
{
    public IReadOnlyCollection<TTestCase> OrderTestCases<TTestCase>(IReadOnlyCollection<TTestCase> testCases) where TTestCase : notnull, ITestCase =>
        testCases.OrderBy(Step).ThenBy(t => t.TestCaseDisplayName, StringComparer.Ordinal).ToList();

    private static int Step<TTestCase>(TTestCase testCase) where TTestCase : notnull, ITestCase =>
        testCase is IXunitTestCase xunit ? xunit.TestMethod.Method.GetCustomAttribute<StepAttribute>()?.Order ?? 0 : 0;
}

/// <summary>Figures printed in the test log (./build.sh test shows lines starting "image figures:").</summary>
public static class Figures
{
    public static void Print(string line)
    {
        var text = "image figures: " + line;
        TestContext.Current.SendDiagnosticMessage(text);
        Console.Error.WriteLine(text);
        var file = Environment.GetEnvironmentVariable("IMAGE_FIGURES_FILE");
        if (!string.IsNullOrEmpty(file)) File.AppendAllText(file, text + Environment.NewLine);
    }
}

package dev.closewatch.cli;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.function.Consumer;

/**
 * POSIX signal handling through {@code sun.misc.Signal} (module {@code jdk.unsupported}, the JDK's
 * only way to handle a signal), reached by reflection: the class is exported to every module, but
 * the compiler warns on each direct use of a {@code sun.*} API and no {@code -Xlint} or
 * {@code @SuppressWarnings} option silences that under {@code --release}.
 */
final class Signals {

    private Signals() {
    }

    /**
     * Replaces the JVM's handling of signal {@code name} (e.g. {@code TERM}, {@code HUP}) with
     * {@code handler}, which receives the name and runs on the JVM's signal dispatch thread.
     *
     * @throws IllegalArgumentException      if the platform has no such signal, or the JVM keeps it
     *                                       (e.g. with {@code -Xrs})
     * @throws UnsupportedOperationException if this runtime has no {@code sun.misc.Signal}
     */
    static void handle(String name, Consumer<String> handler) {
        try {
            Class<?> signalClass = Class.forName("sun.misc.Signal");
            Class<?> handlerInterface = Class.forName("sun.misc.SignalHandler");
            Object signal = signalClass.getConstructor(String.class).newInstance(name);
            Object proxy = Proxy.newProxyInstance(Signals.class.getClassLoader(), new Class<?>[] {handlerInterface},
                    (self, method, args) -> {
                        if (method.getDeclaringClass() == Object.class) {
                            return switch (method.getName()) {
                                case "hashCode" -> System.identityHashCode(self);
                                case "equals" -> self == args[0];
                                default -> "SignalHandler[SIG" + name + "]";
                            };
                        }
                        handler.accept(name);
                        return null;
                    });
            Method handle = signalClass.getMethod("handle", signalClass, handlerInterface);
            handle.invoke(null, signal, proxy);
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException("SIG" + name + ": " + e.getCause(), e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new UnsupportedOperationException("no sun.misc.Signal in this runtime: " + e, e);
        }
    }
}

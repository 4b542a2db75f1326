/* main() of the generic IOC: run the startup script named on the command
 * line (st.cmd), then keep an interactive shell for the container console. */

#include "epicsExit.h"
#include "epicsThread.h"
#include "iocsh.h"

int main(int argc, char *argv[])
{
    if (argc > 1) {
        iocsh(argv[1]);
        /* let the records settle before the prompt appears */
        epicsThreadSleep(0.2);
    }
    iocsh(NULL);
    epicsExit(0);
    return 0;
}
